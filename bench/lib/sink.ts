import { HttpSink } from '../../test/support/http-sink';
import { sequenceOf } from './payloads';
import { sleep } from './stats';

/**
 * The delivery target: answers 200 at once and records when each (sequence, path) first
 * arrived. Runs in the bench process; parsing one small JSON body per request is its only work.
 */
export class ArrivalSink {
  /** `${sequence} ${path}` → first arrival (ms since epoch). */
  readonly arrivals = new Map<string, number>();
  requests = 0;
  duplicates = 0;
  unrecognized = 0;
  private readonly sink = new HttpSink({
    keepRequests: false,
    keepAliveTimeoutMs: 30_000,
    onAnswered: (request) => this.record(request.path, request.body, request.receivedAt),
  });

  get baseUrl(): string {
    return this.sink.url;
  }

  async start(): Promise<this> {
    await this.sink.start();
    return this;
  }

  reset(): void {
    this.arrivals.clear();
    this.requests = 0;
    this.duplicates = 0;
    this.unrecognized = 0;
  }

  /** Resolves once `count` distinct (sequence, path) pairs have arrived; fails on a stall. */
  async waitForArrivals(count: number, stallTimeoutMs: number): Promise<void> {
    let seen = this.arrivals.size;
    let progressAt = Date.now();
    while (this.arrivals.size < count) {
      if (this.arrivals.size > seen) {
        seen = this.arrivals.size;
        progressAt = Date.now();
      } else if (Date.now() - progressAt > stallTimeoutMs) {
        throw new Error(
          `sink: ${seen} of ${count} deliveries, none for ${stallTimeoutMs} ms (${this.unrecognized} unrecognized)`,
        );
      }
      await sleep(20);
    }
  }

  stop(): Promise<void> {
    return this.sink.stop();
  }

  private record(path: string, body: string, arrivedAt: number): void {
    this.requests++;
    let sequence: string | null = null;
    try {
      sequence = sequenceOf(JSON.parse(body));
    } catch {
      sequence = null;
    }
    if (sequence === null) {
      this.unrecognized++;
      return;
    }
    const key = `${sequence} ${path}`;
    if (this.arrivals.has(key)) {
      this.duplicates++;
      return;
    }
    this.arrivals.set(key, arrivedAt);
  }
}
