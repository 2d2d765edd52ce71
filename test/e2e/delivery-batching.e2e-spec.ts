import { DeliveriesRepository } from '../../src/delivery/deliveries.repository';
import { DeliveryAttempts } from '../../src/delivery/delivery-attempts';
import { DeliveryEntity } from '../../src/delivery/delivery.entity';
import { DeliveryProcessor } from '../../src/delivery/delivery.processor';
import { AttemptOutcome } from '../../src/outbound/http-sender';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/**
 * The delivery worker's loads and attempt records are batched across its concurrent jobs (one
 * statement per event-loop turn): each job must still get its own delivery and its own outcome.
 */
describe('delivery loads and attempt records batched across jobs', () => {
  let app: TestApp;
  let source: { id: string; token: string };
  let attempts: DeliveryAttempts;
  let repository: DeliveriesRepository;
  let messageNumber = 0;
  const sink = new HttpSink();

  beforeAll(async () => {
    app = await startTestApp();
    await resetDatabase(app.dataSource);
    await sink.start();
    attempts = app.running.context.get(DeliveryAttempts);
    repository = app.running.context.get(DeliveriesRepository);
    source = (await app.admin('POST', '/api/sources', { name: 'cw', kind: 'chatwoot' })).body;
    for (const name of ['CRM', 'BI', 'Archive']) {
      const created = await app.admin('POST', '/api/subscriptions', {
        name,
        url: `${sink.url}/${name}`,
        eventTypes: ['message.created'],
      });
      expect(created.status).toBe(201);
    }
    // The jobs stay queued: this test makes the attempts itself.
    const worker = app.running.context.get(DeliveryProcessor).worker;
    await worker.pause();
    await waitFor(() => !worker.isRunning(), 15_000);
  });

  afterAll(async () => {
    await app?.close();
    await sink.stop();
  });

  /** Posts unique Chatwoot messages; answers each event's three deliveries once stored. */
  async function storedEvents(count: number) {
    const eventIds: string[] = [];
    for (let i = 0; i < count; i++) {
      messageNumber += 1;
      const payload = JSON.parse(fixtureText('chatwoot', 'message_created.json'));
      payload.id = 910_000 + messageNumber;
      const response = await app.post(
        `/webhooks/chatwoot/${source.token}`,
        JSON.stringify(payload),
      );
      expect(response.status).toBe(200);
      eventIds.push(((await response.json()) as { eventId: string }).eventId);
    }
    return Promise.all(
      eventIds.map(async (eventId) => {
        const deliveries = await waitFor(async () => {
          const stored = await repository.ofEvent(eventId);
          return stored.length === 3 && stored;
        });
        return { eventId, deliveries: deliveries as DeliveryEntity[] };
      }),
    );
  }

  const outcome = (extra: Partial<AttemptOutcome>): AttemptOutcome => ({
    succeeded: true,
    statusCode: 200,
    durationMs: 5,
    error: null,
    responseExcerpt: 'ok',
    retryable: false,
    retryAfterMs: null,
    gone: false,
    ...extra,
  });

  it("loads each delivery with its own event's canonical form when several events share a statement", async () => {
    const events = await storedEvents(4);
    const all = events.flatMap(({ deliveries }) => deliveries);
    // Started in one turn: one statement, deliveries of four events in it.
    const loaded = await Promise.all(all.map((delivery) => attempts.loadForSending(delivery.id)));
    loaded.forEach((target, index) => {
      const delivery = all[index];
      expect(target).toMatchObject({
        delivery: { id: delivery.id, eventId: delivery.eventId, status: 'pending', run: 0 },
        subscription: { id: delivery.subscriptionId },
      });
      expect(JSON.parse(target!.canonicalJson)).toMatchObject({
        id: delivery.eventId,
        type: 'message.created',
      });
    });
    // The same delivery asked for twice in the turn gets its row both times; a gone one, null.
    const [first, again, gone] = await Promise.all([
      attempts.loadForSending(all[0].id),
      attempts.loadForSending(all[0].id),
      attempts.loadForSending('dlv_00000000000000000000000000'),
    ]);
    // Each load carries when it was sent, which may be the next millisecond.
    expect(again).toEqual({ ...first, loadSentAt: expect.any(Number) });
    expect(gone).toBeNull();
  });

  it("records each job's outcome on its own delivery, and a refused record loses no other", async () => {
    const [one, two] = await storedEvents(2);
    const [a, b, c] = one.deliveries;
    const [d, e, f] = two.deliveries;
    const startedAt = new Date();
    const failedNext = { kind: 'retry' as const, delayMs: 60_000, error: 'HTTP 500' };
    const record = (
      delivery: typeof a,
      result: AttemptOutcome,
      next: Parameters<DeliveryAttempts['recordAttempt']>[3],
    ) => attempts.recordAttempt(delivery, result, startedAt, next);
    // All in one turn: one batch. Postgres refuses text with a NUL character: that statement fails.
    const results = await Promise.allSettled([
      record(a, outcome({}), { kind: 'done' }),
      record(
        b,
        outcome({ succeeded: false, statusCode: 500, error: 'HTTP 500', retryable: true }),
        {
          ...failedNext,
          nextAttemptAt: new Date(Date.now() + 60_000),
        },
      ),
      record(c, outcome({ succeeded: false, statusCode: 400, error: 'HTTP 400' }), {
        kind: 'dead',
        error: 'HTTP 400',
      }),
      record(d, outcome({ responseExcerpt: 'bad \u0000 byte' }), { kind: 'done' }),
      record(
        e,
        outcome({ succeeded: false, statusCode: 503, error: 'HTTP 503', retryable: true }),
        {
          ...failedNext,
          nextAttemptAt: new Date(Date.now() + 60_000),
        },
      ),
      // A second attempt of the same delivery in the same turn: after the first, numbered 2.
      record(e, outcome({ statusCode: 204 }), { kind: 'done' }),
      record(f, outcome({ statusCode: 202 }), { kind: 'done' }),
    ]);

    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(
      results.map((result) => (result.status === 'fulfilled' ? result.value.status : null)),
    ).toEqual(['succeeded', 'failed', 'dead', null, 'failed', 'succeeded', 'succeeded']);

    const rows = (await app.dataSource.query(
      `SELECT d.id, d.status, d.attempt_count, d.last_status_code,
              array_agg(a.status_code ORDER BY a.attempt_number) FILTER (WHERE a.id IS NOT NULL) AS codes
         FROM deliveries d LEFT JOIN delivery_attempts a ON a.delivery_id = d.id
        WHERE d.id = ANY($1::text[]) GROUP BY d.id`,
      [[a, b, c, d, e, f].map((delivery) => delivery.id)],
    )) as { id: string; status: string; attempt_count: number; codes: number[] | null }[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(a.id)).toMatchObject({ status: 'succeeded', attempt_count: 1, codes: [200] });
    expect(byId.get(b.id)).toMatchObject({ status: 'failed', attempt_count: 1, codes: [500] });
    expect(byId.get(c.id)).toMatchObject({ status: 'dead', attempt_count: 1, codes: [400] });
    // The refused one recorded nothing and changed nothing; its job fails and is tried again.
    expect(byId.get(d.id)).toMatchObject({ status: 'pending', attempt_count: 0, codes: null });
    expect(byId.get(e.id)).toMatchObject({
      status: 'succeeded',
      attempt_count: 2,
      codes: [503, 204],
    });
    expect(byId.get(f.id)).toMatchObject({ status: 'succeeded', attempt_count: 1, codes: [202] });
  });
});
