import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';

export interface SinkRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

export interface SinkResponse {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

/**
 * A real HTTP server that records what it receives and answers from a script: the first
 * requests get the scripted responses in order, the rest get `fallback`.
 */
export class HttpSink {
  readonly requests: SinkRequest[] = [];
  private script: SinkResponse[] = [];
  private fallback: SinkResponse = { status: 200, body: 'ok' };
  private server: Server | null = null;
  url = '';

  respondWith(script: SinkResponse[], fallback: SinkResponse = { status: 200, body: 'ok' }): this {
    this.script = [...script];
    this.fallback = fallback;
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests.push({
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
        });
        const reply = this.script.shift() ?? this.fallback;
        setTimeout(() => {
          response.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
          response.end(reply.body ?? '');
        }, reply.delayMs ?? 0).unref();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }
}
