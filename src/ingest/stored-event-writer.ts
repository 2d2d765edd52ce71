import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  CHANGED_CONCURRENTLY,
  ConversationsRepository,
  EventForState,
} from '../conversations/conversations.repository';
import {
  ContactsRepository,
  IDENTITY_CHANGED_CONCURRENTLY,
  KnownIdentityWrite,
} from '../conversations/contacts.repository';
import { ConversationResolver } from '../conversations/conversation-resolver';
import { batchPerTurn, roundsByDistinctKey } from '../database/batching';
import { allCompanions, EventsRepository, EventToStore } from '../events/events.repository';

const MAX_BATCH = 200;

export interface EventWrite {
  event: EventToStore;
  /** What to apply to the event's conversation as it is stored. */
  state: EventForState | null;
  /** The newer fields of the event's known identity, as resolved. */
  identity?: KnownIdentityWrite | null;
}

/**
 * Stores events with their deliveries and applies them to their conversations in one
 * statement, so a conversation's state never counts an event that is not stored, and writes
 * the newer fields of their known identities in it. What the ingest jobs store within one
 * event-loop turn goes together (DataLoader). The states and identities were read when the
 * events' ids were resolved; a conversation or identity another batch changed since makes the
 * statement fail, and the identities' fields are then applied again under locks and the batch
 * written in a transaction that reads the states again under a row lock
 * (docs/conversations.md).
 */
@Injectable()
export class StoredEventWriter {
  private readonly writes = batchPerTurn<EventWrite, boolean>(
    (items) => this.writeMany(items),
    MAX_BATCH,
  );

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: EventsRepository,
    private readonly conversations: ConversationsRepository,
    private readonly contacts: ContactsRepository,
    private readonly resolver: ConversationResolver,
  ) {}

  /** False: the event was stored already, and nothing was written. */
  write(item: EventWrite): Promise<boolean> {
    return this.writes.load(item);
  }

  private async writeMany(items: readonly EventWrite[]): Promise<boolean[]> {
    const inserted = new Set<string>();
    for (const round of roundsByDistinctKey(items, (item) => item.event.id)) {
      for (const id of await this.writeRound(round)) inserted.add(id);
    }
    return items.map((item) => inserted.has(item.event.id));
  }

  private async writeRound(round: EventWrite[]): Promise<Set<string>> {
    const events = round.map((item) => item.event);
    const states = round.flatMap((item) => (item.state ? [item.state] : []));
    const companion = this.conversations.companionFor(
      states,
      (state) => state.snapshot ?? undefined,
    );
    const identities = [
      ...new Set(round.flatMap((item) => (item.identity ? [item.identity] : []))),
    ];
    // One write an identity, and one identity a contact (the contact shows its fields), or
    // they are applied under locks.
    const distinct =
      new Set(identities.map((write) => write.identity.id)).size === identities.length &&
      new Set(identities.map((write) => write.identity.contactId)).size === identities.length;
    if (companion !== 'stale' && distinct) {
      const known =
        identities.length > 0
          ? this.contacts.knownIdentitiesCompanion(identities, IDENTITY_CHANGED_CONCURRENTLY)
          : undefined;
      try {
        return await this.events.insertRound(
          this.dataSource.manager,
          events,
          allCompanions([companion, known]),
        );
      } catch (error) {
        const message = String((error as Error)?.message);
        if (
          !message.includes(CHANGED_CONCURRENTLY) &&
          !message.includes(IDENTITY_CHANGED_CONCURRENTLY)
        ) {
          throw error;
        }
      }
    }
    await this.resolver.writeKnown(identities);
    return this.dataSource.transaction(async (manager) => {
      const locked = await this.conversations.lockedSnapshots(manager, states);
      const fresh = this.conversations.companionFor(states, (state) =>
        locked.get(state.conversationId),
      );
      return this.events.insertRound(manager, events, fresh === 'stale' ? undefined : fresh);
    });
  }
}
