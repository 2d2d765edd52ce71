import { WorkerHost } from '@nestjs/bullmq';
import { INestApplicationContext, Logger } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

/** Work a job starts and does not wait for; closing waits for it once no job can start more. */
export abstract class DetachedWork {
  /** Starts no more work and resolves once what is under way has finished. */
  abstract drain(): Promise<void>;
}

/**
 * Closes a running router so that nothing acknowledged is lost, once however often it is called:
 * 1. HTTP stops accepting (new connections are refused, requests on open ones get 503) and the
 *    requests in flight finish: an ingest answers 200 only after its job is queued;
 * 2. the BullMQ workers close, which waits for their active jobs (delivery attempts are recorded);
 * 3. work those jobs left running after them (`DetachedWork`: the first attempts an ingest job
 *    started) finishes, its attempts recorded;
 * 4. Nest closes the rest: queues, Redis, Postgres.
 * Nest's own `app.close()` would close the queues and Redis before the HTTP server, so it runs last.
 * Call it before the app listens: it adds a Fastify hook.
 */
export function gracefulClose(
  context: INestApplicationContext,
  http?: FastifyInstance,
): () => Promise<void> {
  const logger = new Logger('Shutdown');
  let draining = false;
  let closing: Promise<void> | undefined;
  // Keep-alive connections would hold the server open until they time out: answers given while
  // draining close theirs.
  http?.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) void reply.header('connection', 'close');
    done(null, payload);
  });

  async function close(): Promise<void> {
    if (http) {
      draining = true;
      const sweep = setInterval(() => http.server.closeIdleConnections(), 100);
      try {
        await http.close();
      } finally {
        clearInterval(sweep);
      }
      logger.log('HTTP closed; requests in flight answered');
    }
    const workers = bullWorkers(context);
    if (workers.length > 0) {
      await Promise.all(workers.map((host) => host.worker.close()));
      logger.log(`${workers.length} queue workers closed; active jobs finished`);
    }
    const detached = providersOf(context, DetachedWork);
    if (detached.length > 0) {
      await Promise.all(detached.map((work) => work.drain()));
      logger.log('detached work finished');
    }
    await context.close();
  }
  return () => (closing ??= close());
}

/** Every BullMQ processor of the application (none in the API role). */
function bullWorkers(context: INestApplicationContext): WorkerHost[] {
  return providersOf(context, WorkerHost);
}

/** The application's providers that are instances of `type`, each once. */
function providersOf<T>(
  context: INestApplicationContext,
  type: abstract new (...args: never[]) => T,
): T[] {
  let discovery: DiscoveryService;
  try {
    discovery = context.get(DiscoveryService, { strict: false });
  } catch {
    return [];
  }
  return discovery
    .getProviders()
    .map((wrapper) => wrapper.instance as unknown)
    .filter((instance): instance is T => instance instanceof type)
    .filter((instance, index, instances) => instances.indexOf(instance) === index);
}
