import { readFileSync } from 'node:fs';
import { linearSlope, round } from './stats';

/** Resident set size of a process in MB, read from /proc (null once it has exited). */
export function readRssMb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export interface RssSample {
  /** Milliseconds since the sampler started. */
  atMs: number;
  rssMb: number;
}

/** Samples one process's RSS at a fixed interval until stopped. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;

  constructor(
    readonly label: string,
    private readonly pid: number,
    private readonly intervalMs: number,
  ) {}

  start(): this {
    this.startedAt = Date.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  stop(): RssSample[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return this.samples;
  }

  get peakMb(): number {
    return this.samples.reduce((peak, sample) => Math.max(peak, sample.rssMb), 0);
  }

  private sample(): void {
    const rssMb = readRssMb(this.pid);
    if (rssMb !== null) this.samples.push({ atMs: Date.now() - this.startedAt, rssMb });
  }
}

export interface RssTrend {
  startMb: number;
  endMb: number;
  maxMb: number;
  slopeMbPerMin: number;
  samples: number;
}

/** Start, end, max and the least-squares growth rate of a series of samples. */
export function rssTrend(samples: RssSample[]): RssTrend {
  const first = samples[0]?.rssMb ?? Number.NaN;
  const last = samples[samples.length - 1]?.rssMb ?? Number.NaN;
  const slope = linearSlope(samples.map((s) => ({ x: s.atMs / 60_000, y: s.rssMb })));
  return {
    startMb: round(first),
    endMb: round(last),
    maxMb: round(Math.max(...samples.map((s) => s.rssMb))),
    slopeMbPerMin: round(slope, 2),
    samples: samples.length,
  };
}
