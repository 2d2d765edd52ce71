import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { CanonicalEvent } from '../canonical/canonical-event';
import { Settings } from '../config/settings';
import { batchPerTurn } from '../database/batching';
import {
  emptyIdentityState,
  IdentityInput,
  identityInputOf,
  joinKeysOf,
  mergeIdentity,
} from './contact-identity';
import { ContactsRepository, StoredIdentity } from './contacts.repository';
import { ConversationSnapshot, ConversationsRepository } from './conversations.repository';
import { messagesOf } from './conversation-state';
import { pgIndexed } from './pg-values';

const MAX_BATCH = 200;

/** The router's ids for an event: its conversation and the contact (and identity) behind it. */
export interface ResolvedIds {
  conversationId: string | null;
  contactId: string | null;
  identityId: string | null;
  contactExternalId: string | null;
  /** The conversation's state as read now, which the event is applied to when stored. */
  snapshot: ConversationSnapshot | null;
}

const NONE: ResolvedIds = {
  conversationId: null,
  contactId: null,
  identityId: null,
  contactExternalId: null,
  snapshot: null,
};

/**
 * Gives an event its conversation id and contact id before it is routed (subscribers, filters
 * and transforms see them): the conversation row is made on first sight; the identity is made
 * or updated, and joined to the contacts sharing its email or phone (CONTACT_JOIN). What the
 * ingest jobs ask within one event-loop turn is resolved together.
 */
@Injectable()
export class ConversationResolver {
  private readonly batches = batchPerTurn<CanonicalEvent, ResolvedIds>(
    (events) => this.resolveMany(events),
    MAX_BATCH,
  );

  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly contacts: ContactsRepository,
    private readonly settings: Settings,
  ) {}

  resolve(event: CanonicalEvent): Promise<ResolvedIds> {
    if (!event.conversation && !event.contact) return Promise.resolve(NONE);
    return this.batches.load(event);
  }

  private async resolveMany(events: readonly CanonicalEvent[]): Promise<ResolvedIds[]> {
    const inputs = events.map((event) => identityInputOf(event));
    const keys = events.map((event) => pgIndexed(event.conversation?.key));
    const [snapshots, identities] = await Promise.all([
      this.conversations.snapshotsOfKeys(
        events.flatMap((event, index) => {
          const key = keys[index];
          return event.conversation && key
            ? [
                {
                  key,
                  sourceId: event.source.id,
                  sourceKind: event.source.kind,
                  externalId: event.conversation.externalId,
                  messageIds: messagesOf(event).map((message) => message.externalId),
                },
              ]
            : [];
        }),
      ),
      this.identitiesOf(inputs.filter((input) => input !== null)),
    ]);
    return events.map((event, index) => {
      const input = inputs[index];
      const identity = input ? identities.get(identityKey(input)) : undefined;
      const key = keys[index];
      const snapshot = key ? snapshots.get(key) : undefined;
      return {
        conversationId: snapshot?.id ?? null,
        snapshot: snapshot ?? null,
        contactId: identity?.contactId ?? null,
        identityId: identity?.id ?? null,
        contactExternalId: input?.externalId ?? null,
      };
    });
  }

  /**
   * The stored identity of each input, after it. Identities the inputs tell nothing new are
   * only read; the others are written in one transaction, under locks on the emails and phones
   * they may join by, so two workers never make two contacts of one person.
   */
  private async identitiesOf(inputs: IdentityInput[]): Promise<Map<string, StoredIdentity>> {
    const byKey = new Map<string, StoredIdentity>();
    if (inputs.length === 0) return byKey;
    for (const stored of await this.contacts.identitiesByNativeId(inputs)) {
      byKey.set(identityKey(stored), stored);
    }
    const pending = inputs.filter((input) => {
      const stored = byKey.get(identityKey(input));
      return !stored || mergeIdentity(stored, input).changed;
    });
    if (pending.length === 0) return byKey;
    const mode = this.settings.CONTACT_JOIN;
    await this.contacts.transaction(async (manager) => {
      await this.contacts.lockJoinKeys(
        manager,
        pending.flatMap((input) =>
          joinKeysOf(mergeIdentity(emptyIdentityState(), input).state, mode),
        ),
      );
      // Identities stored already are read again under a row lock; new ones are inserted.
      const locked = new Map<string, StoredIdentity>();
      const stored = pending.filter((input) => byKey.has(identityKey(input)));
      for (const identity of await this.contacts.identitiesByNativeId(stored, manager, true)) {
        locked.set(identityKey(identity), identity);
      }
      for (const input of pending) {
        const key = identityKey(input);
        let written = await this.write(manager, locked.get(key) ?? null, input);
        if (!written) {
          // Another worker stored it since it was read: merge into that one.
          const [raced] = await this.contacts.identitiesByNativeId([input], manager, true);
          written = (await this.write(manager, raced, input))!;
        }
        locked.set(key, written);
        byKey.set(key, written);
      }
    });
    return byKey;
  }

  private async write(
    manager: EntityManager,
    stored: StoredIdentity | null,
    input: IdentityInput,
  ): Promise<StoredIdentity | null> {
    const mode = this.settings.CONTACT_JOIN;
    if (!stored) {
      const state = mergeIdentity(emptyIdentityState(), input).state;
      const sharing =
        mode === 'off' ? [] : await this.contacts.contactsSharing(manager, state, mode, null);
      const [into, ...others] = sharing;
      const created = await this.contacts.insertIdentity(manager, input, state, into ?? null);
      if (!created) return null;
      for (const other of others) {
        await this.contacts.mergeContacts(manager, created.contactId, [other.contactId], {
          ...other,
          eventId: input.eventId,
        });
      }
      return created;
    }
    const { state, changed } = mergeIdentity(stored, input);
    if (!changed) return stored;
    const updated: StoredIdentity = { ...stored, ...state };
    await this.contacts.updateIdentity(manager, updated);
    const joinable =
      stored.autoJoin &&
      mode !== 'off' &&
      (updated.emailNormalized !== stored.emailNormalized ||
        updated.phoneE164 !== stored.phoneE164);
    if (joinable) {
      const sharing = await this.contacts.contactsSharing(
        manager,
        updated,
        mode,
        updated.contactId,
      );
      // The oldest contact (ids are time-ordered) stays; the others join it.
      const ids = [updated.contactId, ...sharing.map((other) => other.contactId)].sort();
      const into = ids[0];
      for (const other of sharing.filter((other) => other.contactId !== into)) {
        await this.contacts.mergeContacts(manager, into, [other.contactId], {
          ...other,
          eventId: input.eventId,
        });
      }
      if (into !== updated.contactId) {
        const why = sharing.find((other) => other.contactId === into)!;
        await this.contacts.mergeContacts(manager, into, [updated.contactId], {
          ...why,
          eventId: input.eventId,
        });
        updated.contactId = into;
      }
    }
    return updated;
  }
}

function identityKey(identity: { sourceId: string; externalId: string }): string {
  return `${identity.sourceId}\u0000${identity.externalId}`;
}
