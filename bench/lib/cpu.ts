import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** A process's command name and its times in ms (own user + system, and its reaped children's). */
function processTimes(pid: number | string): { name: string; ownMs: number; childrenMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ms = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND;
  return {
    name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    ownMs: ms(Number(fields[11]) + Number(fields[12])),
    childrenMs: ms(Number(fields[13]) + Number(fields[14])),
  };
}

/** CPU time (user + system) a process has used so far, in ms, read from /proc. */
export function readCpuMs(pid: number): number {
  return processTimes(pid).ownMs;
}

/**
 * CPU time (ms) the Postgres server on this machine has used so far: its live processes, and the
 * backends it has reaped (the postmaster's children's times). Null when no Postgres process is
 * visible here (a remote server, or no /proc).
 */
export function readPostgresCpuMs(): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  let total: number | null = null;
  for (const pid of pids) {
    let times: ReturnType<typeof processTimes>;
    try {
      times = processTimes(pid);
    } catch {
      continue; // exited meanwhile: its time is in the postmaster's children's
    }
    // Only the postmaster has children.
    if (times.name === 'postgres') total = (total ?? 0) + times.ownMs + times.childrenMs;
  }
  return total;
}
