import { Injectable, Logger } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AppError } from '../common/app-error';
import { QueueStats } from './queue-stats';

const PREFIX = 'webhook_router_';

/** Ordered conversations' deliveries waiting behind their head. */
export interface HeldDeliveries {
  count: number;
  oldestAgeSeconds: number;
}

/** Inbound handling: a queue write, sometimes an enrichment call within its budget. */
const INGEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** An attempt lasts up to DELIVERY_TIMEOUT_MS (15 s by default). */
const DELIVERY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60];

/**
 * The process's Prometheus metrics, on its own registry: what the API accepted, what the worker
 * stored and delivered, queue depths read at scrape time, and Node's process metrics. It knows
 * nothing of the domain: callers pass plain label values, already bounded to a known set.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  /** Per source kind (a known kind or 'unknown': a bounded set), the labels of its 200s. */
  private readonly ingestLabels = new Map<
    string,
    { ok: { source_kind: string; status_code: string }; kind: { source_kind: string } }
  >();
  private readonly logger = new Logger(MetricsService.name);

  private readonly eventsReceived = new Counter({
    name: `${PREFIX}events_received_total`,
    help: 'Inbound webhooks accepted (answered 200), by source kind',
    labelNames: ['source_kind'] as const,
    registers: [this.registry],
  });

  private readonly ingestDuration = new Histogram({
    name: `${PREFIX}ingest_duration_seconds`,
    help: 'Time to handle an inbound webhook, by source kind and answered status code',
    labelNames: ['source_kind', 'status_code'] as const,
    buckets: INGEST_BUCKETS,
    registers: [this.registry],
  });

  private readonly eventsRouted = new Counter({
    name: `${PREFIX}events_routed_total`,
    help: 'Events stored by the worker, by source kind, canonical type and status (routed | unprocessable)',
    labelNames: ['source_kind', 'type', 'status'] as const,
    registers: [this.registry],
  });

  private readonly deliveries = new Counter({
    name: `${PREFIX}deliveries_total`,
    help: 'Delivery attempts by outcome: succeeded, failed (a retry is scheduled) or dead (none left)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly deliveryAttemptDuration = new Histogram({
    name: `${PREFIX}delivery_attempt_duration_seconds`,
    help: 'Duration of one delivery attempt (HTTP request to the subscriber)',
    buckets: DELIVERY_BUCKETS,
    registers: [this.registry],
  });

  private readonly firstAttempts = new Counter({
    name: `${PREFIX}first_attempts_total`,
    help: 'First attempts of unordered deliveries, by who made them: ingest (the ingest job, at once) or fanout (a fan-out job: the in-flight cap was reached, or the delivery worker was paused)',
    labelNames: ['by'] as const,
    registers: [this.registry],
  });

  private readonly deadDeliveries = new Counter({
    name: `${PREFIX}dead_deliveries_total`,
    help: 'Deliveries that ended dead: their last attempt failed',
    registers: [this.registry],
  });

  private readonly connectionsRefused = new Counter({
    name: `${PREFIX}http_connections_refused_total`,
    help: 'Connections closed on arrival because HTTP_MAX_CONNECTIONS were open',
    registers: [this.registry],
  });

  /** Where held deliveries are counted (Postgres, through the delivery side); none: not shown. */
  private heldSource: (() => Promise<HeldDeliveries>) | null = null;

  constructor(queueStats: QueueStats) {
    collectDefaultMetrics({ register: this.registry });
    const logger = this.logger;
    const held = () => this.heldSource;
    let heldRead: Promise<HeldDeliveries | null> | null = null;
    /** One read per scrape for both gauges: the first collect starts it, the second shares it. */
    const readHeld = () => {
      heldRead ??= (async () => {
        const source = held();
        if (!source) return null;
        try {
          return await source();
        } catch (error) {
          logger.warn(`held deliveries unavailable: ${(error as Error).message}`);
          return null;
        } finally {
          setImmediate(() => (heldRead = null));
        }
      })();
      return heldRead;
    };
    const heldCount: Gauge = new Gauge({
      name: `${PREFIX}deliveries_held`,
      help: 'Deliveries of ordered conversations waiting behind their head, read from Postgres at scrape time',
      registers: [this.registry],
      async collect() {
        const read = await readHeld();
        if (read) heldCount.set(read.count);
      },
    });
    const heldAge: Gauge = new Gauge({
      name: `${PREFIX}deliveries_held_oldest_age_seconds`,
      help: 'Age of the oldest held delivery (since its webhook was accepted); 0 when none is held',
      registers: [this.registry],
      async collect() {
        const read = await readHeld();
        if (read) heldAge.set(read.oldestAgeSeconds);
      },
    });
    const queueJobs: Gauge<'queue' | 'state'> = new Gauge({
      name: `${PREFIX}queue_jobs`,
      help: 'Jobs in each queue by state, read from Redis at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        queueJobs.reset();
        try {
          for (const { name, counts } of await queueStats.counts()) {
            for (const [state, count] of Object.entries(counts)) {
              queueJobs.set({ queue: name, state }, count);
            }
          }
        } catch (error) {
          // Left empty rather than failing the scrape: the process metrics still matter.
          logger.warn(`queue counts unavailable: ${(error as Error).message}`);
        }
      },
    });
  }

  /** The delivery side tells how to count held deliveries (monitoring knows no tables). */
  readHeldDeliveriesWith(source: () => Promise<HeldDeliveries>): void {
    this.heldSource = source;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Times one inbound webhook; counts it as received when it is answered 200. `sourceKind` is a
   * known kind or 'unknown', never the URL segment as sent.
   */
  async measureIngest<T>(sourceKind: string, handle: () => Promise<T>): Promise<T> {
    const startedAt = performance.now();
    try {
      const answer = await handle();
      this.ingestAnswered(sourceKind, 200, startedAt);
      return answer;
    } catch (error) {
      this.ingestAnswered(sourceKind, ingestStatusOf(error), startedAt);
      throw error;
    }
  }

  /**
   * One inbound webhook answered `statusCode`, handled since `startedAt` (performance.now()):
   * measureIngest without the wrapping, for the ingest route. The label sets of the 200s are
   * made once per kind.
   */
  ingestAnswered(sourceKind: string, statusCode: number, startedAt: number): void {
    const seconds = (performance.now() - startedAt) / 1000;
    if (statusCode !== 200) {
      this.ingestDuration.observe(
        { source_kind: sourceKind, status_code: String(statusCode) },
        seconds,
      );
      return;
    }
    let labels = this.ingestLabels.get(sourceKind);
    if (!labels) {
      labels = {
        ok: { source_kind: sourceKind, status_code: '200' },
        kind: { source_kind: sourceKind },
      };
      this.ingestLabels.set(sourceKind, labels);
    }
    this.ingestDuration.observe(labels.ok, seconds);
    this.eventsReceived.inc(labels.kind);
  }

  /** A connection refused at HTTP_MAX_CONNECTIONS. */
  connectionRefused(): void {
    this.connectionsRefused.inc();
  }

  /** One event the worker stored: `type` is null when it could not be normalized. */
  eventStored(sourceKind: string, type: string | null): void {
    this.eventsRouted.inc({
      source_kind: sourceKind,
      type: type ?? 'none',
      status: type === null ? 'unprocessable' : 'routed',
    });
  }

  /** First attempts of new deliveries started by the ingest job, or handed to a fan-out job. */
  firstAttemptsStarted(by: 'ingest' | 'fanout', deliveries: number): void {
    this.firstAttempts.inc({ by }, deliveries);
  }

  /** One delivery attempt, recorded with the status it left the delivery in (dead: none left). */
  deliveryAttempted(status: string, durationMs: number): void {
    this.deliveries.inc({ outcome: status });
    this.deliveryAttemptDuration.observe(durationMs / 1000);
    if (status === 'dead') this.deadDeliveries.inc();
  }
}

/** The status an inbound webhook that failed with `error` is answered. */
export function ingestStatusOf(error: unknown): number {
  return error instanceof AppError ? error.status : 500;
}
