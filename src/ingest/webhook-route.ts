import type { FastifyInstance } from 'fastify';
import { ingestStatusOf, MetricsService } from '../monitoring/metrics.service';
import { SourceRegistry } from '../sources/source-registry';
import { AcceptedWebhook, IngestService } from './ingest.service';

/**
 * POST /webhooks/:kind/:token, the URL a user pastes into Jivo or Chatwoot. No admin key: the
 * token identifies the source. A plain Fastify route, not a Nest controller: this is the path
 * that must keep up with the senders, and Nest's guard, interceptor and pipe chain cost more
 * per request than the ingest itself (bench/README.md). Errors go through the Fastify error
 * handler and get the same JSON bodies as every route. Documented in webhook-route.openapi.ts.
 */
export function mountWebhookRoute(
  fastify: FastifyInstance,
  ingest: IngestService,
  metrics: MetricsService,
  registry: SourceRegistry,
): void {
  fastify.post<{ Params: { kind: string; token: string } }>(
    '/webhooks/:kind/:token',
    async (request) => {
      const { kind, token } = request.params;
      // The kind is a URL segment: only known kinds become label values.
      const sourceKind = registry.get(kind) ? kind : 'unknown';
      const startedAt = performance.now();
      let accepted: AcceptedWebhook;
      try {
        accepted = await ingest.accept({
          kind,
          token,
          rawBody: request.rawBody,
          rawText: request.rawText,
          body: request.body,
          headers: request.headers,
        });
      } catch (error) {
        metrics.ingestAnswered(sourceKind, ingestStatusOf(error), startedAt);
        throw error;
      }
      metrics.ingestAnswered(sourceKind, 200, startedAt);
      request.eventId = accepted.eventId;
      return accepted.response;
    },
  );
}
