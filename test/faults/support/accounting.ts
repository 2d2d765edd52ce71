import {
  acceptOrderFromDatabase,
  checkOrdering,
  OrderingReport,
} from '../../support/ordering-check';
import { SentWebhook } from './load-driver';
import { FaultHarness, SINK_PATHS } from './fault-harness';

/** Where every webhook the driver sent ended up, once the router has settled. */
export interface Accounting {
  sent: number;
  /** Answered 200: the router promised these are durably queued. */
  acknowledged: number;
  stored: number;
  /** acknowledged − stored: must be 0. */
  lost: number;
  /** Answered 503: the sender knows to retry; not lost. */
  refused: number;
  /** Refused, yet stored all the same (queued when Redis came back): a duplicate once retried. */
  refusedStored: number;
  /** Any other answer, or none (connection refused, timeout). */
  otherAnswers: number;
  /** Stored but not normalizable, so routed nowhere. */
  unprocessable: number;
  /** One per routed event and subscription of SINK_PATHS; `missing` were never created. */
  deliveries: { expected: number; missing: number; succeeded: number; dead: number; other: number };
  /** The deliveries of the extra subscriptions, by sink path: the scenario judges them. */
  extraDeliveries: Record<string, ExtraDeliveries>;
  /** Deliveries recorded succeeded that the sink never accepted: must be 0. */
  unconfirmed: number;
  /** (path, webhook-id) pairs the sink accepted more than once: allowed, counted. */
  duplicates: number;
  /**
   * By sink path of an ordered subscription (ordering "conversation"): whether each
   * conversation's first acceptances at the sink came in the router's accept order.
   */
  ordering: Record<
    string,
    Omit<OrderingReport, 'examples'> & Partial<Pick<OrderingReport, 'examples'>>
  >;
  /** Conversations reordered, over every ordered path: must be 0. */
  reordered: number;
  statusHistogram: Record<string, number>;
}

export interface ExtraDeliveries {
  succeeded: number;
  dead: number;
  /** Not final yet (pending or failed). */
  other: number;
  /** The acknowledged webhooks (by their load sequence) that got a delivery here. */
  sequences: number[];
  /** The dead ones' last errors, counted. */
  deadErrors: Record<string, number>;
}

/** Polls until every acknowledged webhook is stored and every delivery is final, or time runs out. */
export async function settle(
  harness: FaultHarness,
  sent: SentWebhook[],
  timeoutMs: number,
): Promise<{ accounting: Accounting; settled: boolean; settleMs: number }> {
  const startedAt = Date.now();
  for (;;) {
    const accounting = await account(harness, sent);
    const { deliveries } = accounting;
    const settled =
      accounting.lost === 0 &&
      deliveries.other === 0 &&
      deliveries.missing === 0 &&
      deliveries.succeeded + deliveries.dead === deliveries.expected &&
      Object.values(accounting.extraDeliveries).every((extra) => extra.other === 0);
    const settleMs = Date.now() - startedAt;
    if (settled || settleMs > timeoutMs) return { accounting, settled, settleMs };
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function account(harness: FaultHarness, sent: SentWebhook[]): Promise<Accounting> {
  const acknowledged = sent.filter((webhook) => webhook.status === 200);
  const eventIds = acknowledged.flatMap((webhook) => (webhook.eventId ? [webhook.eventId] : []));
  const refused = sent.filter((webhook) => webhook.status === 503);
  const client = await harness.database();
  try {
    const events = await client.query<{ id: string; status: string }>(
      'SELECT id, status FROM events WHERE id = ANY($1::text[])',
      [eventIds],
    );
    const routed = events.rows.filter((event) => event.status === 'routed');
    const allDeliveries = await client.query<{
      event_id: string;
      status: string;
      url: string;
      last_error: string | null;
      ordering: string;
    }>(
      `SELECT d.event_id, d.status, s.url, d.last_error, s.ordering
         FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
        WHERE d.event_id = ANY($1::text[])`,
      [eventIds],
    );
    const pathOf = (url: string) => new URL(url).pathname;
    const ordering: Accounting['ordering'] = {};
    const orderedPaths = new Set(
      allDeliveries.rows
        .filter((row) => row.ordering === 'conversation')
        .map((row) => pathOf(row.url)),
    );
    for (const path of orderedPaths) {
      const ids = allDeliveries.rows
        .filter((row) => pathOf(row.url) === path)
        .map((row) => row.event_id);
      const acceptOrder = await acceptOrderFromDatabase(
        (sql, parameters) => client.query(sql, parameters),
        ids,
      );
      const { examples, ...report } = checkOrdering(
        acceptOrder,
        harness.sink.firstAcceptedOrder(path),
      );
      ordering[path] = report.reordered > 0 ? { ...report, examples } : report;
    }
    const healthy = (path: string) => (SINK_PATHS as readonly string[]).includes(path);
    const deliveries = {
      rows: allDeliveries.rows.filter((delivery) => healthy(pathOf(delivery.url))),
    };
    const sequenceOf = new Map(acknowledged.map((webhook) => [webhook.eventId, webhook.sequence]));
    const extraDeliveries: Record<string, ExtraDeliveries> = {};
    for (const delivery of allDeliveries.rows) {
      const path = pathOf(delivery.url);
      if (healthy(path)) continue;
      const extra = (extraDeliveries[path] ??= {
        succeeded: 0,
        dead: 0,
        other: 0,
        sequences: [],
        deadErrors: {},
      });
      extra.sequences.push(sequenceOf.get(delivery.event_id)!);
      if (delivery.status === 'succeeded') extra.succeeded += 1;
      else if (delivery.status !== 'dead') extra.other += 1;
      else {
        extra.dead += 1;
        const error = delivery.last_error ?? 'none';
        extra.deadErrors[error] = (extra.deadErrors[error] ?? 0) + 1;
      }
    }
    for (const extra of Object.values(extraDeliveries)) extra.sequences.sort((a, b) => a - b);
    const refusedStored = await client.query<{ count: string }>(
      'SELECT count(*) FROM events WHERE source_delivery_id = ANY($1::text[])',
      [refused.map((webhook) => webhook.deliveryId)],
    );
    const byStatus = (status: string) =>
      deliveries.rows.filter((delivery) => delivery.status === status).length;
    const succeeded = byStatus('succeeded');
    const dead = byStatus('dead');
    const unconfirmed = deliveries.rows.filter(
      (delivery) =>
        delivery.status === 'succeeded' &&
        harness.sink.acceptedCount(pathOf(delivery.url), delivery.event_id) === 0,
    ).length;
    const expected = routed.length * SINK_PATHS.length;
    const statusHistogram: Record<string, number> = {};
    for (const webhook of sent) {
      const key = webhook.status === 0 ? 'no answer' : String(webhook.status);
      statusHistogram[key] = (statusHistogram[key] ?? 0) + 1;
    }
    return {
      sent: sent.length,
      acknowledged: acknowledged.length,
      stored: events.rows.length,
      lost: acknowledged.length - events.rows.length,
      refused: refused.length,
      refusedStored: Number(refusedStored.rows[0].count),
      otherAnswers: sent.length - acknowledged.length - refused.length,
      unprocessable: events.rows.length - routed.length,
      deliveries: {
        expected,
        missing: expected - deliveries.rows.length,
        succeeded,
        dead,
        other: deliveries.rows.length - succeeded - dead,
      },
      extraDeliveries,
      unconfirmed,
      duplicates: harness.sink.duplicates(),
      ordering,
      reordered: Object.values(ordering).reduce((sum, report) => sum + report.reordered, 0),
      statusHistogram,
    };
  } finally {
    await client.end();
  }
}
