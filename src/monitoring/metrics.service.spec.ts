import { AppError } from '../common/app-error';
import { MetricsService } from './metrics.service';
import { QueueCounts, QueueStats } from './queue-stats';

const COUNTS: QueueCounts[] = [
  {
    name: 'ingest',
    counts: {
      waiting: 2,
      active: 1,
      delayed: 0,
      failed: 0,
      completed: 5,
      paused: 0,
      prioritized: 0,
    },
  },
];

function metricsWith(counts: () => Promise<QueueCounts[]> = async () => COUNTS) {
  return new MetricsService({ counts } as QueueStats);
}

describe('MetricsService', () => {
  it('counts an accepted webhook and times it with its status code', async () => {
    const metrics = metricsWith();
    await expect(metrics.measureIngest('chatwoot', async () => 'ok')).resolves.toBe('ok');
    const text = await metrics.metrics();
    expect(text).toContain('webhook_router_events_received_total{source_kind="chatwoot"} 1');
    expect(text).toMatch(
      /webhook_router_ingest_duration_seconds_count\{source_kind="chatwoot",status_code="200"\} 1/,
    );
  });

  it('times a refused webhook without counting it', async () => {
    const metrics = metricsWith();
    const refused = metrics.measureIngest('unknown', async () => {
      throw new AppError('not_found', 'Unknown webhook endpoint');
    });
    await expect(refused).rejects.toThrow('Unknown webhook endpoint');
    const text = await metrics.metrics();
    expect(text).toMatch(
      /webhook_router_ingest_duration_seconds_count\{source_kind="unknown",status_code="404"\} 1/,
    );
    expect(text).not.toMatch(/webhook_router_events_received_total\{/);
  });

  it('counts stored events by type and status', async () => {
    const metrics = metricsWith();
    metrics.eventStored('chatwoot', 'message.created');
    metrics.eventStored('chatwoot', null);
    const text = await metrics.metrics();
    expect(text).toContain(
      'webhook_router_events_routed_total{source_kind="chatwoot",type="message.created",status="routed"} 1',
    );
    expect(text).toContain(
      'webhook_router_events_routed_total{source_kind="chatwoot",type="none",status="unprocessable"} 1',
    );
  });

  it('counts delivery attempts by outcome, dead ones apart, and times them', async () => {
    const metrics = metricsWith();
    metrics.deliveryAttempted('failed', 120);
    metrics.deliveryAttempted('dead', 80);
    metrics.deliveryAttempted('succeeded', 30);
    const text = await metrics.metrics();
    for (const outcome of ['failed', 'dead', 'succeeded']) {
      expect(text).toContain(`webhook_router_deliveries_total{outcome="${outcome}"} 1`);
    }
    expect(text).toContain('webhook_router_dead_deliveries_total 1');
    expect(text).toContain('webhook_router_delivery_attempt_duration_seconds_count 3');
    expect(text).toContain('webhook_router_delivery_attempt_duration_seconds_sum 0.23');
  });

  it('reads queue depths at scrape time, and still answers when Redis does not', async () => {
    const healthy = await metricsWith().metrics();
    expect(healthy).toContain('webhook_router_queue_jobs{queue="ingest",state="waiting"} 2');
    expect(healthy).toContain('webhook_router_queue_jobs{queue="ingest",state="completed"} 5');

    const failing = metricsWith(async () => {
      throw new AppError('queue_unavailable', 'Redis did not answer; retry later');
    });
    const text = await failing.metrics();
    expect(text).not.toMatch(/webhook_router_queue_jobs\{/);
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});
