import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

/** What the sink does with one request: answer now, or hold it and answer late. */
export interface SinkBehaviour {
  status: number;
  delayMs?: number;
}

/** Decides the answer from the request's path, its webhook-id and how often that pair came. */
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
  private server: Server | null = null;
  requests = 0;
  url = '';

  constructor(private readonly responder: SinkResponder = ALWAYS_OK) {}

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const path = request.url ?? '';
        const webhookId = String(request.headers['webhook-id'] ?? '');
        const tally = this.tally(path, webhookId);
        tally.requests += 1;
        this.requests += 1;
        const { status, delayMs = 0 } = this.responder(path, webhookId, tally.requests);
        setTimeout(() => {
          if (response.destroyed) return;
          // Counted only when the answer goes out: a 2xx the router gave up on is still seen here.
          if (status >= 200 && status < 300) tally.accepted += 1;
          response.writeHead(status, { 'content-type': 'text/plain' }).end(String(status));
        }, delayMs).unref();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** How many times the sink accepted (2xx) this webhook-id on this path. */
  acceptedCount(path: string, webhookId: string): number {
    return this.tallies.get(`${path} ${webhookId}`)?.accepted ?? 0;
  }

  /** (path, webhook-id) pairs the sink accepted more than once. */
  duplicates(): number {
    let count = 0;
    for (const tally of this.tallies.values()) if (tally.accepted > 1) count += 1;
    return count;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private tally(path: string, webhookId: string): Tally {
    const key = `${path} ${webhookId}`;
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = { requests: 0, accepted: 0 };
      this.tallies.set(key, tally);
    }
    return tally;
  }
}
