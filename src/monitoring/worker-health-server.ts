import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Settings } from '../config/settings';
import { HealthAnswer, HealthChecks } from './health-checks';
import { MetricsService } from './metrics.service';

/**
 * The worker role serves no API, yet orchestrators probe it and Prometheus scrapes it: a bare
 * HTTP server on WORKER_HEALTH_PORT answers /health/live, /health/ready and /metrics, nothing
 * else. Only with APP_ROLE=worker: in `all` the API's server already answers them.
 */
@Injectable()
export class WorkerHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerHealthServer.name);
  private server: Server | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly checks: HealthChecks,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.settings.APP_ROLE !== 'worker' || this.settings.WORKER_HEALTH_PORT === 0) return;
    const server = createServer((request, response) => {
      this.answer(request, response).catch((error: unknown) => {
        this.logger.error(`${request.url}: ${(error as Error).stack ?? String(error)}`);
        if (!response.headersSent) send(response, 500, 'text/plain', 'internal error\n');
        else response.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.settings.WORKER_HEALTH_PORT, this.settings.HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const { address, port } = server.address() as AddressInfo;
    this.logger.log(`Worker health and metrics on http://${address}:${port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return send(response, 405, 'text/plain', 'method not allowed\n');
    }
    switch (path) {
      case '/health/live':
        return sendHealth(response, await this.checks.live());
      case '/health/ready':
        return sendHealth(response, await this.checks.ready());
      case '/metrics':
        return send(response, 200, this.metrics.contentType, await this.metrics.metrics());
      default:
        return send(response, 404, 'text/plain', 'not found\n');
    }
  }
}

function sendHealth(response: ServerResponse, answer: HealthAnswer): void {
  response.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
  send(response, answer.statusCode, 'application/json; charset=utf-8', JSON.stringify(answer.body));
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
