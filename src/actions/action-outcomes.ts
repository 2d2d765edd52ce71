import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CANONICAL_SCHEMA_VERSION, CanonicalEvent } from '../canonical/canonical-event';
import { derivedId, newId } from '../common/ids';
import { sha256 } from '../common/secrets';
import { DeliveryProducer } from '../delivery/delivery-producer';
import { OrderedLanes } from '../delivery/ordered-lanes';
import { EventsRepository, EventToStore, InsertedRound } from '../events/events.repository';
import { SubscriptionMatcher } from '../routing/subscription-matcher';
import { ActionEntity } from './action.entity';
import { toActionView } from './dto/action.view';

/**
 * An ended action becomes a canonical event (`action.succeeded` / `action.failed`), stored
 * and routed to subscriptions like any inbound event. Its id is derived from the action's, so
 * emitting it again (a job retried after a crash) stores and sends nothing twice.
 */
@Injectable()
export class ActionOutcomes {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly matcher: SubscriptionMatcher,
    private readonly events: EventsRepository,
    private readonly producer: DeliveryProducer,
    private readonly lanes: OrderedLanes,
  ) {}

  async emit(action: ActionEntity): Promise<void> {
    if (action.status === 'queued') return;
    const event = outcomeEvent(action);
    const subscriptions = await this.matcher.match(
      { type: event.type, sourceId: action.sourceId },
      event,
    );
    const deliveries = subscriptions.map((subscription) => ({
      id: newId('dlv'),
      run: 0,
      subscriptionId: subscription.id,
      // An ordered subscription gets the outcome in its conversation's lane, like any event.
      laneKey: subscription.ordered ? action.conversationKey : null,
    }));
    const stored = await this.store(action.id, {
      id: event.id,
      sourceId: action.sourceId,
      sourceKind: action.sourceKind,
      sourceEvent: event.source.event,
      sourceDeliveryId: null,
      type: event.type,
      status: 'routed',
      error: null,
      conversationKey: action.conversationKey,
      conversationId: action.conversationId,
      occurredAt: event.occurredAt,
      receivedAt: event.receivedAt,
      rawBody: JSON.stringify(toActionView(action)),
      canonical: JSON.stringify(event),
      deliveries,
    });
    await this.producer.enqueueFirstAttempts(
      event.id,
      stored
        ? deliveries.filter((delivery) => !delivery.laneKey || stored.heads.has(delivery.id))
        : await this.producer.strandedOfEvent(event.id),
    );
    // Held behind an unfinished delivery of its conversation: promoted if that one is through.
    const lanes = deliveries.flatMap(({ id, subscriptionId, laneKey }) =>
      laneKey && !stored?.heads.has(id) ? [{ subscriptionId, laneKey }] : [],
    );
    if (!stored) await this.lanes.releaseHeldOfEvent(event.id);
    else if (lanes.length > 0) await this.lanes.releaseHeldOfEvent(event.id, lanes);
  }

  /**
   * The event with its deliveries, and the action pointing at it, in one statement; null when
   * the event was stored already.
   */
  private async store(actionId: string, event: EventToStore): Promise<InsertedRound | null> {
    const inserted = await this.events.insertRound(this.dataSource.manager, [event], {
      ctes: (first) =>
        `outcome AS (UPDATE actions SET outcome_event_id = $${first + 1}
                      WHERE id = $${first} AND outcome_event_id IS DISTINCT FROM $${first + 1})`,
      params: [actionId, event.id],
      holds: () => 'true',
      failure: 'unreachable',
    });
    return inserted.events.has(event.id) ? inserted : null;
  }
}

/** The outcome of an ended action as a canonical event (docs/canonical-model.md). */
export function outcomeEvent(action: ActionEntity): CanonicalEvent {
  const endedAt = (action.completedAt ?? action.updatedAt).toISOString();
  const type = action.status === 'succeeded' ? 'action.succeeded' : 'action.failed';
  const actor = {
    type: 'system' as const,
    externalId: action.requestedBy,
    name: null,
    email: null,
  };
  const request = action.request;
  return {
    id: derivedId('evt', action.completedAt ?? action.updatedAt, sha256(`outcome:${action.id}`)),
    type,
    schemaVersion: CANONICAL_SCHEMA_VERSION,
    occurredAt: endedAt,
    receivedAt: endedAt,
    source: { kind: action.sourceKind, id: action.sourceId, event: type, deliveryId: null },
    conversation: {
      id: action.conversationId,
      key: action.conversationKey,
      externalId: action.target.externalId,
      status: 'unknown',
      channel: null,
      team: null,
      assignee: null,
      agents: [],
      labels: [],
      rating: null,
      startedAt: null,
      endedAt: null,
      attributes: {},
    },
    contact: null,
    actor,
    message:
      request.kind === 'message'
        ? {
            externalId: action.id,
            direction: request.private ? 'internal' : 'outbound',
            kind: request.buttons.length > 0 ? 'input' : 'text',
            text: request.text,
            attachments: [],
            sender: actor,
            createdAt: action.createdAt.toISOString(),
            private: request.private,
            deleted: false,
            status: action.status === 'succeeded' ? 'sent' : 'failed',
          }
        : null,
    messages: [],
    changes: null,
    session: null,
    extensions: {
      action: {
        id: action.id,
        kind: action.kind,
        status: action.status,
        conversationId: action.conversationId,
        request,
        attempts: action.attempts,
        error: action.error,
        createdAt: action.createdAt.toISOString(),
        completedAt: action.completedAt?.toISOString() ?? null,
      },
    },
  };
}
