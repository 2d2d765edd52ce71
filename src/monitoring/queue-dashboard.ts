import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { Settings } from '../config/settings';
import { DELIVERY_QUEUE, INGEST_QUEUE } from '../queues/queue-names';
import { adminPathGuard } from './admin-path.guard';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * Mounts bull-board at /admin/queues on the Nest Fastify instance, behind the admin key. Call
 * before listen. bull-board's routes are plain Fastify routes, which Nest's AdminKeyGuard never
 * sees, so an onRequest hook guards every /admin path instead.
 *
 * The delivery queue is read-only: its state lives in Postgres, and re-sending goes through
 * POST /api/deliveries/redrive. An ingest job that failed for good is the only copy of what a
 * source sent, so it can be retried from the dashboard.
 */
export function mountQueueDashboard(app: NestFastifyApplication, settings: Settings): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', adminPathGuard(settings.ADMIN_API_KEYS));

  const serverAdapter = new BullBoardFastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: [
      new BullMQAdapter(app.get<Queue>(getQueueToken(INGEST_QUEUE))),
      new BullMQAdapter(app.get<Queue>(getQueueToken(DELIVERY_QUEUE)), { readOnlyMode: true }),
    ],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'webhook-router' } },
  });
  void fastify.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
}
