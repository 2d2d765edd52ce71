import {
  createServer,
  IncomingHttpHeaders,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
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

/** Decides the answer to one request, once its body is read. */
export type SinkResponder = (request: SinkRequest) => SinkResponse;

/** Answers one request by hand (a stalled body, a reset socket…), once its body is read. */
export type SinkHandler = (incoming: IncomingMessage, response: ServerResponse) => void;

export interface HttpSinkOptions {
  /** Keep every request in `requests` (the default); off under load, where counts are kept. */
  keepRequests?: boolean;
  /** Called when an answer went out (not when the client left before a delayed one). */
  onAnswered?: (request: SinkRequest, reply: SinkResponse) => void;
  keepAliveTimeoutMs?: number;
}

const OK: SinkResponse = { status: 200, body: 'ok' };

/**
 * A real HTTP server that records what it receives and answers it: by default from a script
 * (the first requests get the scripted responses in order, the rest get `fallback`), or from a
 * responder, or by hand. Shared by the unit specs, the e2e specs, the fault suite and the bench.
 */
export class HttpSink {
  readonly requests: SinkRequest[] = [];
  /** TCP connections accepted: a client that reuses its connections opens few. */
  connections = 0;
  url = '';
  private script: SinkResponse[] = [];
  private fallback: SinkResponse = OK;
  private responder: SinkResponder = () => this.script.shift() ?? this.fallback;
  private handler: SinkHandler | null = null;
  private server: Server | null = null;

  constructor(private readonly options: HttpSinkOptions = {}) {}

  respondWith(script: SinkResponse[], fallback: SinkResponse = OK): this {
    this.script = [...script];
    this.fallback = fallback;
    return this;
  }

  answerWith(responder: SinkResponder): this {
    this.responder = responder;
    return this;
  }

  handleWith(handler: SinkHandler): this {
    this.handler = handler;
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const request: SinkRequest = {
          method: incoming.method ?? '',
          path: incoming.url ?? '',
          headers: incoming.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
        };
        if (this.options.keepRequests ?? true) this.requests.push(request);
        if (this.handler) return this.handler(incoming, response);
        this.answer(request, response, this.responder(request));
      });
    });
    this.server.on('connection', () => this.connections++);
    if (this.options.keepAliveTimeoutMs) {
      this.server.keepAliveTimeout = this.options.keepAliveTimeoutMs;
    }
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private answer(request: SinkRequest, response: ServerResponse, reply: SinkResponse): void {
    const send = () => {
      if (response.destroyed) return;
      response.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
      response.end(reply.body ?? '');
      this.options.onAnswered?.(request, reply);
    };
    if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
    else send();
  }
}
