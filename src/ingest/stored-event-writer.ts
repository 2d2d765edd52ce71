import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConversationsRepository, EventForState } from '../conversations/conversations.repository';
import { batchPerTurn, roundsByDistinctKey } from '../database/batching';
import { EventsRepository, EventToStore } from '../events/events.repository';

const MAX_BATCH = 200;

export interface EventWrite {
  event: EventToStore;
  /** The conversation state to apply when the event is stored (not when it was stored already). */
  state: EventForState | null;
}

/**
 * Stores events with their deliveries and applies them to their conversations in one
 * transaction, so a conversation's state never counts an event that is not stored, and a
 * retried job (its event stored already) changes nothing. What the ingest jobs store within
 * one event-loop turn goes together (DataLoader), a few statements for the whole batch.
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
    const inserted = new Set<EventWrite>();
    for (const round of roundsByDistinctKey(items, (item) => item.event.id)) {
      await this.dataSource.transaction(async (manager) => {
        const ids = await this.events.insertRound(
          manager,
          round.map((item) => item.event),
        );
        const stored = round.filter((item) => ids.has(item.event.id));
        await this.conversations.applyEvents(
          manager,
          stored.flatMap((item) => (item.state ? [item.state] : [])),
        );
        for (const item of stored) inserted.add(item);
      });
    }
    return items.map((item) => inserted.has(item));
  }
}
