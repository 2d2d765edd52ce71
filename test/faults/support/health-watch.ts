/** How one URL answered while it was watched. */
export interface HealthRecord {
  checks: number;
  /** Checks with no 200 within the timeout. */
  failures: number;
  slowestMs: number;
}

/**
 * Asks liveness URLs every `intervalMs`, each with its own timeout, one request per URL at a
 * time: a process whose event loop is blocked shows up as failures, however briefly it was.
 */
export class HealthWatch {
  readonly records: Record<string, HealthRecord> = {};
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly urls: Record<string, string>,
    private readonly intervalMs = 250,
    // Generous for a machine the suite shares: a frozen process misses it by a minute.
    private readonly timeoutMs = 5_000,
  ) {}

  start(): void {
    this.running = true;
    this.loops = Object.entries(this.urls).map(([name, url]) => this.watch(name, url));
  }

  async stop(): Promise<Record<string, HealthRecord>> {
    this.running = false;
    await Promise.all(this.loops);
    return this.records;
  }

  private async watch(name: string, url: string): Promise<void> {
    const record: HealthRecord = { checks: 0, failures: 0, slowestMs: 0 };
    this.records[name] = record;
    while (this.running) {
      const startedAt = Date.now();
      const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) }).catch(
        () => null,
      );
      await response?.arrayBuffer().catch(() => undefined);
      const tookMs = Date.now() - startedAt;
      record.checks += 1;
      if (response?.status !== 200) record.failures += 1;
      record.slowestMs = Math.max(record.slowestMs, tookMs);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, this.intervalMs - tookMs)));
    }
  }
}
