import { Pool } from 'undici';
import { JivoBodies } from './payloads';
import { sleep } from './stats';

export interface Answer {
  sequence: number;
  /** When the answer arrived (ms since epoch). */
  answeredAt: number;
  latencyMs: number;
  ok: boolean;
}

/** POSTs unique Jivo bodies to one webhook URL over a keep-alive pool. */
export class WebhookSender {
  private readonly pool: Pool;
  private readonly path: string;
  readonly answers: Answer[] = [];
  errors = 0;

  constructor(
    url: string,
    connections: number,
    private readonly bodies: JivoBodies,
  ) {
    const parsed = new URL(url);
    this.pool = new Pool(parsed.origin, { connections, pipelining: 1 });
    this.path = parsed.pathname;
  }

  async send(): Promise<void> {
    const { sequence, body } = this.bodies.take();
    const startedAt = performance.now();
    try {
      const response = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers: { 'content-type': 'application/json' },
        body,
      });
      await response.body.dump();
      this.answers.push({
        sequence,
        answeredAt: Date.now(),
        latencyMs: performance.now() - startedAt,
        ok: response.statusCode === 200,
      });
    } catch {
      this.errors++;
    }
  }

  /** `count` requests, `concurrency` at a time, as fast as the server answers. */
  async burst(count: number, concurrency: number): Promise<void> {
    let remaining = count;
    const lane = async () => {
      while (remaining > 0) {
        remaining--;
        await this.send();
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  }

  /** A steady `ratePerSecond` for `durationMs`, whatever the answer times. */
  async paced(ratePerSecond: number, durationMs: number): Promise<void> {
    const startedAt = Date.now();
    const inFlight = new Set<Promise<void>>();
    let sent = 0;
    while (Date.now() - startedAt < durationMs) {
      const due = Math.floor(((Date.now() - startedAt) / 1000) * ratePerSecond);
      for (; sent < due; sent++) {
        const request = this.send().finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      await sleep(10);
    }
    await Promise.all(inFlight);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
