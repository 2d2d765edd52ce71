import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { requireAdminKey } from '../auth/admin-key.hook';
import { Settings } from '../config/settings';
import { ACTION_QUEUE, DELIVERY_QUEUE, INGEST_QUEUE } from '../queues/queue-names';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * Mounts bull-board at /admin/queues on the Nest Fastify instance, behind the admin key. Call
 * before listen. bull-board's routes are plain Fastify routes, which Nest's AdminKeyGuard never
 * sees, so they live in a plugin scope of their own whose onRequest hook asks for the key.
 *
 * Both queues are read-only there: the delivery queue's state lives in Postgres (re-send with
 * POST /api/deliveries/retry), and an ingest job is the only copy of a webhook already
 * answered 200, which pausing, emptying or a forged job would lose or corrupt. Failed ingest
 * jobs are retried with POST /api/queues/ingest/retry.
 */
export function mountQueueDashboard(app: NestFastifyApplication, settings: Settings): void {
  const fastify = app.getHttpAdapter().getInstance();
  const serverAdapter = new BullBoardFastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: [INGEST_QUEUE, DELIVERY_QUEUE, ACTION_QUEUE].map(
      (name) => new BullMQAdapter(app.get<Queue>(getQueueToken(name)), { readOnlyMode: true }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'webhook-router' } },
  });
  void fastify.register(
    async (dashboard: FastifyInstance) => {
      dashboard.addHook('onRequest', requireAdminKey(settings.ADMIN_API_KEYS));
      await dashboard.register(serverAdapter.registerPlugin());
    },
    { prefix: QUEUE_DASHBOARD_PATH },
  );
}
