import { HttpSink, SinkRequest, SinkResponse } from '../../support/http-sink';

/** What the sink does with one request: answer now, or hold it and answer late. */
export interface SinkBehaviour {
  status: number;
  delayMs?: number;
}

/** Decides the answer from the request's path, its webhook-id and how often that pair came (1: its first request). */
export type SinkResponder = (path: string, webhookId: string, attempt: number) => SinkBehaviour;

export const ALWAYS_OK: SinkResponder = () => ({ status: 200 });

interface Tally {
  requests: number;
  accepted: number;
}

/**
 * A local receiver that keeps only counts per (path, webhook-id): how many requests came and how
 * many it answered 2xx, the latter being what a receiver would have processed.
 */
export class FaultSink {
  private readonly tallies = new Map<string, Tally>();
  /** By path: webhook-ids in the order the sink first accepted (2xx) each. */
  private readonly firstAccepted = new Map<string, string[]>();
  requests = 0;
  private readonly sink = new HttpSink({
    keepRequests: false,
    // Counted only when the answer goes out: a 2xx the router gave up on is still seen here.
    onAnswered: (request, reply) => {
      if (reply.status < 200 || reply.status >= 300) return;
      const tally = this.tallyOf(request);
      tally.accepted += 1;
      if (tally.accepted === 1) {
        const order = this.firstAccepted.get(request.path) ?? [];
        order.push(webhookIdOf(request));
        this.firstAccepted.set(request.path, order);
      }
    },
  });

  constructor(private readonly responder: SinkResponder = ALWAYS_OK) {
    this.sink.answerWith((request) => this.answer(request));
  }

  get url(): string {
    return this.sink.url;
  }

  async start(): Promise<void> {
    await this.sink.start();
  }

  /** How many times the sink accepted (2xx) this webhook-id on this path. */
  acceptedCount(path: string, webhookId: string): number {
    return this.tallies.get(`${path} ${webhookId}`)?.accepted ?? 0;
  }

  /** The webhook-ids first accepted on this path, in the order they were. */
  firstAcceptedOrder(path: string): string[] {
    return this.firstAccepted.get(path) ?? [];
  }

  /** (path, webhook-id) pairs the sink accepted more than once. */
  duplicates(): number {
    let count = 0;
    for (const tally of this.tallies.values()) if (tally.accepted > 1) count += 1;
    return count;
  }

  stop(): Promise<void> {
    return this.sink.stop();
  }

  private answer(request: SinkRequest): SinkResponse {
    const tally = this.tallyOf(request);
    tally.requests += 1;
    this.requests += 1;
    const { status, delayMs } = this.responder(request.path, webhookIdOf(request), tally.requests);
    return { status, delayMs, body: String(status) };
  }

  private tallyOf(request: SinkRequest): Tally {
    const key = `${request.path} ${webhookIdOf(request)}`;
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = { requests: 0, accepted: 0 };
      this.tallies.set(key, tally);
    }
    return tally;
  }
}

function webhookIdOf(request: SinkRequest): string {
  return String(request.headers['webhook-id'] ?? '');
}
