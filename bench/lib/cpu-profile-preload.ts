/**
 * Loaded with `node --require` into a process to profile a chosen window: the first SIGUSR2
 * starts the V8 CPU profiler, the second writes BENCH_CPU_PROFILE_FILE. No cost until then.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
let profiling = false;

process.on('SIGUSR2', () => {
  if (!profiling) {
    profiling = true;
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval: 200 }, () =>
        session.post('Profiler.start'),
      ),
    );
    return;
  }
  profiling = false;
  session.post('Profiler.stop', (error, result) => {
    const file = process.env.BENCH_CPU_PROFILE_FILE ?? `cpu-${process.pid}.cpuprofile`;
    if (error) console.error(error);
    else writeFileSync(file, JSON.stringify(result.profile));
    console.error(`cpu profile written: ${file}`);
  });
});
