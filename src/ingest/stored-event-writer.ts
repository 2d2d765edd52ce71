import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  CHANGED_CONCURRENTLY,
  ConversationsRepository,
  EventForState,
} from '../conversations/conversations.repository';
import { batchPerTurn, roundsByDistinctKey } from '../database/batching';
import { EventsRepository, EventToStore } from '../events/events.repository';

const MAX_BATCH = 200;

export interface EventWrite {
  event: EventToStore;
  /** What to apply to the event's conversation as it is stored. */
  state: EventForState | null;
}

/**
 * Stores events with their deliveries and applies them to their conversations in one
 * statement, so a conversation's state never counts an event that is not stored. What the
 * ingest jobs store within one event-loop turn goes together (DataLoader). The states were
 * read when the events' ids were resolved; a conversation another batch changed since makes
 * the statement fail, and the batch is then written in a transaction that reads the states
 * again under a row lock (docs/conversations.md).
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
    if (companion !== 'stale') {
      try {
        return await this.events.insertRound(this.dataSource.manager, events, companion);
      } catch (error) {
        if (!String((error as Error)?.message).includes(CHANGED_CONCURRENTLY)) throw error;
      }
    }
    return this.dataSource.transaction(async (manager) => {
      const locked = await this.conversations.lockedSnapshots(manager, states);
      const fresh = this.conversations.companionFor(states, (state) =>
        locked.get(state.conversationId),
      );
      return this.events.insertRound(manager, events, fresh === 'stale' ? undefined : fresh);
    });
  }
}
