import { INestApplicationContext, Logger, ValidationError, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyBaseLogger } from 'fastify';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import type { Server } from 'node:net';
import { Logger as JsonLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AppError } from './common/app-error';
import { gracefulClose } from './common/graceful-shutdown';
import { HttpErrorFilter } from './common/http-error.filter';
import { createLoggers, markRequestLogger, RequestLogLines } from './common/logging';
import { NulCharactersPipe } from './common/nul-characters.pipe';
import { sourceSettingsOpenApi } from './sources/sources.openapi';
import { setupOpenApi } from './common/openapi';
import { BODY_VALIDATION, validationProblems } from './common/validation-problems';
import { installJsonBodyParser } from './common/raw-body';
import { MetricsService } from './monitoring/metrics.service';
import { mountQueueDashboard } from './monitoring/queue-dashboard';
import { mountConsole } from './console/console-host';
import { IngestService } from './ingest/ingest.service';
import { mountWebhookRoute } from './ingest/webhook-route';
import { SourceRegistry } from './sources/source-registry';
import { webhookRouteOpenApi } from './ingest/webhook-route.openapi';
import { Settings } from './config/settings';
import { runMigrations } from './database/migrate';
import { applyRoutesAtBoot } from './routes-as-code/apply-at-boot';
import { DELIVERY_QUEUE, INGEST_QUEUE } from './queues/queue-names';

export interface RunningApp {
  context: INestApplicationContext;
  /** The HTTP address when the role serves HTTP. */
  url: string | null;
  close(): Promise<void>;
}

/**
 * Starts the router in the role the settings name: migrations, then the Nest application.
 * `env` is where the routes file's `${NAME}` references are read (ROUTES_APPLY_ON_START).
 */
export async function startApp(
  settings: Settings,
  env: Record<string, string | undefined> = process.env,
): Promise<RunningApp> {
  const logger = new Logger('Bootstrap');
  if (settings.DATABASE_MIGRATE_ON_START) await runMigrations(settings);
  const loggers = createLoggers(settings);

  if (settings.APP_ROLE === 'worker') {
    const context = await NestFactory.createApplicationContext(
      AppModule.forSettings(settings, loggers),
      { bufferLogs: true },
    );
    context.useLogger(context.get(JsonLogger));
    await context.init();
    logger.log('Worker started');
    return { context, url: null, close: gracefulClose(context) };
  }

  const adapter = new FastifyAdapter({
    ...httpLimits(settings),
    bodyLimit: settings.INGEST_BODY_LIMIT_BYTES,
    loggerInstance: loggers.lines,
    logController: new RequestLogLines(),
    // No per-request child logger: the request line carries its reqId itself.
    childLoggerFactory: (logger: FastifyBaseLogger) => logger,
    // Nest middleware is not used (nestjs-pino's is not mounted), so neither is its middie hook.
    skipMiddie: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forSettings(settings, loggers),
    adapter,
    { bodyParser: false, bufferLogs: true },
  );
  app.useLogger(app.get(JsonLogger));
  const fastify = app.getHttpAdapter().getInstance();
  // Its request lines are built as one string (the childLoggerFactory above hands it over).
  markRequestLogger(fastify.log);
  capConnections(fastify.server, settings, app.get(MetricsService));
  installJsonBodyParser(fastify, settings.INGEST_BODY_LIMIT_BYTES);
  // Nest's error handler runs this filter for errors from plain Fastify routes too.
  app.useGlobalFilters(new HttpErrorFilter());
  app.useGlobalPipes(
    new NulCharactersPipe(),
    new ValidationPipe({
      ...BODY_VALIDATION,
      transform: true,
      exceptionFactory: (errors) => validationError(errors),
    }),
  );
  mountWebhookRoute(
    fastify,
    app.get(IngestService),
    app.get(MetricsService),
    app.get(SourceRegistry),
  );
  setupOpenApi(app, settings, webhookRouteOpenApi(), [
    sourceSettingsOpenApi(app.get(SourceRegistry)),
  ]);
  mountQueueDashboard(app, settings);
  mountConsole(fastify);
  if (settings.ROUTES_APPLY_ON_START) {
    await applyRoutesAtBoot(app, settings, env).catch(async (error: unknown) => {
      await app.close();
      throw error;
    });
  }
  // Signals are handled in main.ts, which calls close(): Nest's hooks would close Redis before HTTP.
  const close = gracefulClose(app, fastify);
  await app.listen(settings.PORT, settings.HOST);
  await Promise.all(
    [INGEST_QUEUE, DELIVERY_QUEUE].map((name) =>
      app.get<Queue>(getQueueToken(name)).waitUntilReady(),
    ),
  );
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');
  logger.log(`${settings.APP_ROLE === 'all' ? 'API and worker' : 'API'} listening on ${url}`);
  return { context: app, url, close };
}

/**
 * A client that trickles its request (slow loris) is answered 408 and cut off once
 * HTTP_REQUEST_TIMEOUT_MS have passed since it connected or began the request; Node checks
 * its connections every second (or each quarter of the timeout, when shorter).
 */
function httpLimits(settings: Settings) {
  const requestTimeout = settings.HTTP_REQUEST_TIMEOUT_MS;
  return {
    requestTimeout,
    connectionTimeout: settings.HTTP_IDLE_TIMEOUT_MS,
    http: {
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(requestTimeout / 4))),
    },
  };
}

/**
 * Past HTTP_MAX_CONNECTIONS open connections, Node closes new ones as they arrive. Node and
 * Fastify have no per-client cap: behind a load balancer every client has its address anyway,
 * so per-client limits belong to the proxy.
 */
function capConnections(server: Server, settings: Settings, metrics: MetricsService): void {
  if (settings.HTTP_MAX_CONNECTIONS === 0) return;
  server.maxConnections = settings.HTTP_MAX_CONNECTIONS;
  server.on('drop', () => metrics.connectionRefused());
}

/** One 400 naming every failing field, nested fields by their dotted path. */
function validationError(errors: ValidationError[]): AppError {
  const problems = validationProblems(errors);
  const fields = problems.map((problem) => problem.field).join(', ');
  return new AppError('validation_failed', `Invalid fields: ${fields}`, problems);
}
