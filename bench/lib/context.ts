import { randomBytes } from 'node:crypto';
import { BenchConfig } from './config';
import { JivoBodies } from './payloads';
import { RouterEnvironment } from './router';

export interface RssPeak {
  benchmark: string;
  process: string;
  peakMb: number;
}

/** What the benchmarks of one `npm run bench` share. */
export class BenchContext {
  /** One sequence for every body sent, so no two requests of a run are identical. */
  readonly bodies = new JivoBodies();
  readonly rssPeaks: RssPeak[] = [];
  readonly queuePrefixes = new Set<string>();
  readonly adminKey = `bench_${randomBytes(16).toString('hex')}`;
  private readonly runId = Date.now().toString(36);

  constructor(readonly config: BenchConfig) {}

  get databaseUrl(): string {
    return `${this.config.postgresUrl}/${this.config.database}`;
  }

  /** A queue prefix of its own for one side of one benchmark; deleted when the bench ends. */
  queuePrefix(label: string): string {
    const prefix = `bench_${this.runId}_${label}`;
    this.queuePrefixes.add(prefix);
    return prefix;
  }

  routerEnvironment(label: string): RouterEnvironment {
    return {
      databaseUrl: this.databaseUrl,
      redisUrl: this.config.redisUrl,
      queuePrefix: this.queuePrefix(label),
      adminKey: this.adminKey,
    };
  }
}
