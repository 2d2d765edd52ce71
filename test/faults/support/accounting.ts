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
  /** One per routed event and subscription; `missing` were never created. */
  deliveries: { expected: number; missing: number; succeeded: number; dead: number; other: number };
  /** Deliveries recorded succeeded that the sink never accepted: must be 0. */
  unconfirmed: number;
  /** (path, webhook-id) pairs the sink accepted more than once: allowed, counted. */
  duplicates: number;
  statusHistogram: Record<string, number>;
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
      deliveries.succeeded + deliveries.dead === deliveries.expected;
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
    const deliveries = await client.query<{ event_id: string; status: string; url: string }>(
      `SELECT d.event_id, d.status, s.url
         FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
        WHERE d.event_id = ANY($1::text[])`,
      [eventIds],
    );
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
        harness.sink.acceptedCount(new URL(delivery.url).pathname, delivery.event_id) === 0,
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
      unconfirmed,
      duplicates: harness.sink.duplicates(),
      statusHistogram,
    };
  } finally {
    await client.end();
  }
}
