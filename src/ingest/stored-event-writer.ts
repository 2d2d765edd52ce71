import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  CHANGED_CONCURRENTLY,
  ConversationSnapshot,
  ConversationsRepository,
  EventForState,
} from '../conversations/conversations.repository';
import {
  ContactsRepository,
  IDENTITY_CHANGED_CONCURRENTLY,
  IDENTITY_NOT_AS_REMEMBERED,
  IDENTITY_SHARED_CONCURRENTLY,
  KnownIdentityWrite,
  StoredIdentity,
} from '../conversations/contacts.repository';
import { ConversationResolver, ResolvedIds } from '../conversations/conversation-resolver';
import { batchPerTurn, roundsByDistinctKey } from '../database/batching';
import { Settings } from '../config/settings';
import {
  allCompanions,
  EventsRepository,
  EventToStore,
  InsertedRound,
} from '../events/events.repository';

const MAX_BATCH = 200;

/**
 * The event was not stored: what its ids were resolved from is out of date (remembered, a new
 * conversation another worker inserted first, or a new identity another worker's has since
 * joined).
 */
export const RESOLVE_AGAIN = 'resolve again';

/**
 * Stored: true, or false when the event was stored already (nothing was written); RESOLVE_AGAIN
 * when its ids are out of date (nothing was written). `heads`: the deliveries of the statement
 * that start as their lane's head (pending), any event's.
 */
export interface WriteOutcome {
  stored: boolean | typeof RESOLVE_AGAIN;
  heads: ReadonlySet<string>;
}

export interface EventWrite {
  event: EventToStore;
  /** What to apply to the event's conversation as it is stored. */
  state: EventForState | null;
  /** The newer fields of the event's known identity, as resolved. */
  identity?: KnownIdentityWrite | null;
  /** The ids as resolved: what the worker remembers once the event is stored. */
  ids?: ResolvedIds | null;
}

/**
 * Stores events with their deliveries and applies them to their conversations in one
 * statement, so a conversation's state never counts an event that is not stored, and writes
 * the newer fields of their known identities in it; a conversation the read found no row for
 * is inserted by it, with its state. What the ingest jobs store within one event-loop turn
 * goes together (DataLoader). The states and identities were read when the events' ids were
 * resolved, or remembered from this worker's last statement of them; a conversation or
 * identity another batch changed since, or a new conversation's key another batch inserted,
 * makes the statement fail. Then the events resolved from memory, those of a new
 * conversation, and those of a new identity joined meanwhile to another worker's sharing its
 * email or phone, are not stored (their ids may be out of date: RESOLVE_AGAIN), and for the
 * others the identities' fields are applied again under locks and the batch written in a
 * transaction that reads the states again under a row lock (docs/conversations.md).
 */
@Injectable()
export class StoredEventWriter {
  private readonly writes = batchPerTurn<EventWrite, WriteOutcome>(
    (items) => this.writeMany(items),
    MAX_BATCH,
  );

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: EventsRepository,
    private readonly conversations: ConversationsRepository,
    private readonly contacts: ContactsRepository,
    private readonly resolver: ConversationResolver,
    private readonly settings: Settings,
  ) {}

  write(item: EventWrite): Promise<WriteOutcome> {
    return this.writes.load(item);
  }

  private async writeMany(items: readonly EventWrite[]): Promise<WriteOutcome[]> {
    const outcomes = new Map<EventWrite, WriteOutcome>();
    for (const round of roundsByDistinctKey(items, (item) => item.event.id)) {
      const { inserted, again } = await this.writeRound(round);
      for (const item of round) {
        outcomes.set(item, {
          stored: again.has(item) ? RESOLVE_AGAIN : inserted.events.has(item.event.id),
          heads: inserted.heads,
        });
      }
    }
    return items.map((item) => outcomes.get(item)!);
  }

  private async writeRound(
    round: EventWrite[],
  ): Promise<{ inserted: InsertedRound; again: Set<EventWrite> }> {
    const events = round.map((item) => item.event);
    const fresh = joinChecksOf(round);
    const states = round.flatMap((item) => (item.state ? [item.state] : []));
    const after = new Map<string, ConversationSnapshot>();
    const companion = this.conversations.companionFor(
      states,
      (state) => state.snapshot ?? undefined,
      after,
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
      // An identity written here is checked by its write (contact and stamps as read).
      const written = new Set(identities.map((write) => write.identity.id));
      const checks = new Map(
        round.flatMap((item) =>
          item.ids?.identityCheck && !written.has(item.ids.identityCheck.id)
            ? [[item.ids.identityCheck.id, item.ids.identityCheck]]
            : [],
        ),
      );
      const remembered =
        checks.size > 0
          ? this.contacts.identitiesAsRememberedCompanion(
              [...checks.values()],
              IDENTITY_NOT_AS_REMEMBERED,
            )
          : undefined;
      const unshared =
        fresh.length > 0
          ? this.contacts.unsharedCompanion(
              fresh,
              this.settings.CONTACT_JOIN,
              IDENTITY_SHARED_CONCURRENTLY,
            )
          : undefined;
      try {
        const inserted = await this.events.insertRound(
          this.dataSource.manager,
          events,
          allCompanions([companion, known, remembered, unshared]),
        );
        this.remember(round, after);
        return { inserted, again: new Set() };
      } catch (error) {
        const message = String((error as Error)?.message);
        if (
          !message.includes(CHANGED_CONCURRENTLY) &&
          !message.includes(IDENTITY_CHANGED_CONCURRENTLY) &&
          !message.includes(IDENTITY_NOT_AS_REMEMBERED) &&
          !message.includes(IDENTITY_SHARED_CONCURRENTLY)
        ) {
          throw error;
        }
      }
    }
    for (const item of round) {
      this.resolver.forget(item.ids?.conversationKey ?? null, item.ids?.identityKey ?? null);
    }
    // New identities another worker's share an email or phone with are joined to them; their
    // events take the joined contact's id (resolved again).
    const joined = fresh.length > 0 ? await this.resolver.joinIfShared(fresh) : new Set<string>();
    // Events of a conversation the read planned, which may now be another worker's, are
    // resolved again too.
    const again = new Set(
      round.filter(
        (item) =>
          item.ids?.remembered ||
          item.state?.snapshot?.toInsert ||
          (item.ids?.joinCheck && joined.has(item.ids.joinCheck.id)),
      ),
    );
    const rest = round.filter((item) => !again.has(item));
    if (rest.length === 0) return { inserted: { events: new Set(), heads: new Set() }, again };
    const restStates = rest.flatMap((item) => (item.state ? [item.state] : []));
    await this.resolver.writeKnown([
      ...new Set(rest.flatMap((item) => (item.identity ? [item.identity] : []))),
    ]);
    const inserted = await this.dataSource.transaction(async (manager) => {
      const locked = await this.conversations.lockedSnapshots(manager, restStates);
      const fresh = this.conversations.companionFor(restStates, (state) =>
        locked.get(state.conversationId),
      );
      return this.events.insertRound(
        manager,
        rest.map((item) => item.event),
        fresh === 'stale' ? undefined : fresh,
      );
    });
    return { inserted, again };
  }

  /** After the statement: each conversation and identity as it left them, for the next event. */
  private remember(round: EventWrite[], after: Map<string, ConversationSnapshot>): void {
    for (const item of round) {
      const ids = item.ids;
      if (!ids) continue;
      const snapshot = ids.conversationId ? (after.get(ids.conversationId) ?? null) : null;
      this.resolver.remember(ids.conversationKey, snapshot, ids.identityKey, ids.identity);
    }
  }
}

/** The new identities of a round whose email or phone must be checked again, once each. */
function joinChecksOf(round: EventWrite[]): StoredIdentity[] {
  const checks = new Map<string, StoredIdentity>();
  for (const item of round) {
    const check = item.ids?.joinCheck;
    if (check) checks.set(check.id, check);
  }
  return [...checks.values()];
}
