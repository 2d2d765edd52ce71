import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server, Socket } from 'node:net';
import { openSocket } from '../support/raw-http';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/** Resolves with what the server sent before it closed the socket; fails if it never does. */
function closedWithin<T>(closed: Promise<T>, limitMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const never = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still open after ${limitMs} ms`)), limitMs);
  });
  return Promise.race([closed, never]).finally(() => clearTimeout(timer));
}

function httpServer(app: TestApp): Server {
  return (app.running.context as NestFastifyApplication).getHttpAdapter().getInstance().server;
}

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

describe('HTTP limits: slow clients and too many connections', () => {
  describe('HTTP_REQUEST_TIMEOUT_MS', () => {
    let app: TestApp;
    let token: string;

    beforeAll(async () => {
      app = await startTestApp({ APP_ROLE: 'api', HTTP_REQUEST_TIMEOUT_MS: '1000' });
      await resetDatabase(app.dataSource);
      token = (await app.admin('POST', '/api/sources', { kind: 'chatwoot', name: 'Acme' })).body
        .token;
    });

    afterAll(async () => {
      await app?.close();
    });

    it('cuts off clients that trickle a request, while others are served', async () => {
      const trickle = (socket: Socket, bytes: string) => {
        let next = 0;
        const timer = setInterval(() => {
          if (socket.destroyed) return clearInterval(timer);
          socket.write(bytes[next++ % bytes.length]);
        }, 200);
        socket.on('close', () => clearInterval(timer));
      };
      const slowBody = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const client = await openSocket(app.url);
          client.socket.write(
            `POST /webhooks/chatwoot/${token} HTTP/1.1\r\nHost: x\r\n` +
              'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a":"',
          );
          trickle(client.socket, 'x');
          return client;
        }),
      );
      const slowHeaders = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const client = await openSocket(app.url);
          client.socket.write(`POST /webhooks/chatwoot/${token} HTTP/1.1\r\n`);
          trickle(client.socket, 'X-Slow: 1\r\n');
          return client;
        }),
      );
      const silent = await openSocket(app.url);
      try {
        const webhook = await app.post(`/webhooks/chatwoot/${token}`, '{"event":"x","id":7}');
        expect(webhook.status).toBe(200);
        expect((await fetch(`${app.url}/health/live`)).status).toBe(200);

        for (const [what, clients] of Object.entries({
          slowBody,
          slowHeaders,
          silent: [silent],
        })) {
          for (const client of clients) {
            const answer = await closedWithin(client.closed, 20_000, what);
            expect({ what, answer: answer.split('\r\n')[0] }).toEqual({
              what,
              answer: 'HTTP/1.1 408 Request Timeout',
            });
          }
        }
      } finally {
        for (const client of [...slowBody, ...slowHeaders, silent]) client.socket.destroy();
      }
      expect((await fetch(`${app.url}/health/live`)).status).toBe(200);
    });
  });

  describe('HTTP_MAX_CONNECTIONS', () => {
    let app: TestApp;
    const held: Socket[] = [];

    beforeAll(async () => {
      app = await startTestApp({ APP_ROLE: 'api', HTTP_MAX_CONNECTIONS: '4' });
    });

    afterAll(async () => {
      for (const socket of held) socket.destroy();
      await app?.close();
    });

    it('closes connections past the cap as they arrive, and serves again once one is free', async () => {
      const server = httpServer(app);
      const already = await openConnections(server);
      for (let open = already; open < 4; open++) held.push((await openSocket(app.url)).socket);
      await waitFor(async () => (await openConnections(server)) === 4, 10_000);

      const refused = await openSocket(app.url);
      held.push(refused.socket);
      expect(await closedWithin(refused.closed, 10_000, 'the connection past the cap')).toBe('');

      held[0].destroy();
      await waitFor(async () => (await openConnections(server)) < 4, 10_000);
      const metrics = await fetch(`${app.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^webhook_router_http_connections_refused_total 1$/m);
    });
  });
});
