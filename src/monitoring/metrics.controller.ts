import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/admin-key.guard';
import { MetricsService } from './metrics.service';

const METRICS_EXAMPLE = [
  '# HELP webhook_router_events_received_total Inbound webhooks accepted (answered 200), by source kind',
  '# TYPE webhook_router_events_received_total counter',
  'webhook_router_events_received_total{source_kind="chatwoot"} 42',
  '# HELP webhook_router_queue_jobs Jobs in each queue by state, read from Redis at scrape time',
  '# TYPE webhook_router_queue_jobs gauge',
  'webhook_router_queue_jobs{queue="delivery",state="waiting"} 0',
].join('\n');

/** Prometheus scrapes this without an admin key; keep it off the public internet at the proxy. */
@ApiTags('operations')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Prometheus text format, no admin key: webhook_router_* counters and histograms of this ' +
      'process, queue depths read from Redis at scrape time, Node process metrics.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition format 0.0.4',
    content: { 'text/plain': { schema: { type: 'string' }, example: METRICS_EXAMPLE } },
  })
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const text = await this.metrics.metrics();
    void reply.header('Content-Type', this.metrics.contentType);
    return text;
  }
}
