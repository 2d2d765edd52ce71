import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { CanonicalEvent } from '../canonical/canonical-event';
import { Settings } from '../config/settings';
import { newId } from '../common/ids';
import { batchPerTurn } from '../database/batching';
import type { ContactJoinMode } from '../config/settings';
import {
  emptyIdentityState,
  IdentityInput,
  IdentityState,
  identityInputOf,
  identityOf,
  joinKeysOf,
  mergeIdentity,
} from './contact-identity';
import {
  AlonePlan,
  ContactsRepository,
  IdentitiesWithSharing,
  KnownIdentityWrite,
  StatementReadPart,
  StoredIdentity,
} from './contacts.repository';
import { ConversationMemory } from './conversation-memory';
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
  /**
   * The newer fields of the event's known identity, written with the event's statement (the
   * same object for every event of the batch that changed it).
   */
  identityWrite: KnownIdentityWrite | null;
  /** The conversation's key, under which the worker remembers it once the event is stored. */
  conversationKey: string | null;
  /** The event's identity as it is once the event is stored, under which key (memory). */
  identity: StoredIdentity | null;
  identityKey: string | null;
  /**
   * Resolved from what the worker remembers, with no read: the event's statement must find
   * the conversation's version and the identity (`identityCheck`) as remembered, or it writes
   * nothing and the event is resolved again with a read.
   */
  remembered: boolean;
  identityCheck: RememberedIdentityCheck | null;
  /**
   * A new identity with an email or phone another worker may have stored at the same moment
   * (each read before the other committed): the event's statement requires that no other
   * contact shares them, else the two are joined and the event resolved again.
   */
  joinCheck: StoredIdentity | null;
}

/** An identity the statement must find still in this contact, with these field stamps. */
export interface RememberedIdentityCheck {
  id: string;
  contactId: string;
  stamps: IdentityState['stamps'];
}

const NONE: ResolvedIds = {
  conversationId: null,
  contactId: null,
  identityId: null,
  contactExternalId: null,
  snapshot: null,
  identityWrite: null,
  conversationKey: null,
  identity: null,
  identityKey: null,
  remembered: false,
  identityCheck: null,
  joinCheck: null,
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
    (events) => this.resolveMany(events, true),
    MAX_BATCH,
  );
  private readonly readBatches = batchPerTurn<CanonicalEvent, ResolvedIds>(
    (events) => this.resolveMany(events, false),
    MAX_BATCH,
  );
  /** What this worker learned of conversations and identities, to skip the read next time. */
  private readonly memory: ConversationMemory;

  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly contacts: ContactsRepository,
    private readonly settings: Settings,
  ) {
    this.memory = new ConversationMemory(settings.CONVERSATION_MEMORY_SIZE);
  }

  /**
   * `read`: resolve from the database, not from memory (after the event's statement found
   * what the worker remembered out of date).
   */
  resolve(event: CanonicalEvent, read = false): Promise<ResolvedIds> {
    if (!event.conversation && !event.contact) return Promise.resolve(NONE);
    return (read ? this.readBatches : this.batches).load(event);
  }

  /** After an event's statement: its conversation and identity as the statement left them. */
  remember(
    conversationKey: string | null,
    snapshot: ConversationSnapshot | null,
    identityKey: string | null,
    identity: StoredIdentity | null,
  ): void {
    if (conversationKey !== null && snapshot) {
      this.memory.rememberConversation(conversationKey, snapshot);
    }
    if (identityKey !== null && identity) this.memory.rememberIdentity(identityKey, identity);
  }

  /** After a statement that found them changed by someone else. */
  forget(conversationKey: string | null, identityKey: string | null): void {
    this.memory.forget(conversationKey, identityKey);
  }

  private async resolveMany(
    events: readonly CanonicalEvent[],
    fromMemory: boolean,
  ): Promise<ResolvedIds[]> {
    const remembered = fromMemory ? this.fromMemory(events) : events.map(() => null);
    const toRead = events.filter((_, index) => remembered[index] === null);
    const read = toRead.length > 0 ? await this.readMany(toRead, fromMemory) : [];
    let next = 0;
    return remembered.map((ids) => ids ?? read[next++]);
  }

  /**
   * The ids of the events whose conversation and identity the worker remembers, with no
   * read; null for the others. An event is resolved from memory only if every message it
   * carries is remembered or known not stored, and its identity changes but in fields that
   * join nobody; the events of the batch sharing a conversation or identity with one that is
   * read are read too (one snapshot each a batch).
   */
  private fromMemory(events: readonly CanonicalEvent[]): (ResolvedIds | null)[] {
    const mode = this.settings.CONTACT_JOIN;
    const plans = events.map((event) => {
      const input = identityInputOf(event);
      const conversationKey = event.conversation ? pgIndexed(event.conversation.key) : null;
      return {
        event,
        input,
        conversationKey,
        identityKey: input ? identityKey(input) : null,
        usable: (!event.conversation || conversationKey !== null) && (!event.contact || !!input),
        conversation: undefined as ConversationSnapshot | undefined,
      };
    });
    const unusable = new Set<string>();
    const markUnusable = (plan: (typeof plans)[number]) => {
      plan.usable = false;
      if (plan.conversationKey !== null) unusable.add(`c${plan.conversationKey}`);
      if (plan.identityKey !== null) unusable.add(`i${plan.identityKey}`);
    };
    const identities = new Map<
      string,
      { stored: StoredIdentity; state: StoredIdentity; inputs: IdentityInput[] }
    >();
    for (const plan of plans) {
      if (!plan.usable) {
        markUnusable(plan);
        continue;
      }
      if (plan.conversationKey !== null) {
        const conversation = this.memory.conversation(plan.conversationKey);
        plan.conversation = conversation;
        const messagesKnown =
          conversation &&
          messagesOf(plan.event).every(
            (message) =>
              conversation.messages.has(message.externalId) ||
              (conversation.storedMessageIds !== null &&
                !conversation.storedMessageIds.has(message.externalId)),
          );
        if (!messagesKnown) {
          markUnusable(plan);
          continue;
        }
      }
      if (plan.input && plan.identityKey !== null) {
        const known = identities.get(plan.identityKey);
        const stored = known?.stored ?? this.memory.identity(plan.identityKey);
        if (!stored) {
          markUnusable(plan);
          continue;
        }
        const { state, changed } = mergeIdentity(known?.state ?? stored, plan.input);
        const joinable =
          stored.autoJoin &&
          mode !== 'off' &&
          (state.emailNormalized !== stored.emailNormalized ||
            state.phoneE164 !== stored.phoneE164);
        if (joinable) {
          markUnusable(plan);
          continue;
        }
        identities.set(plan.identityKey, {
          stored,
          state,
          inputs: changed ? [...(known?.inputs ?? []), plan.input] : (known?.inputs ?? []),
        });
      }
    }
    // One changed identity a contact a statement (the contact shows the fields of one).
    const changedContacts = new Map<string, string>();
    for (const [key, { stored, state }] of identities) {
      if (state === stored) continue;
      const other = changedContacts.get(stored.contactId);
      if (other === undefined) changedContacts.set(stored.contactId, key);
      else unusable.add(`i${key}`);
    }
    // Sharing a conversation or identity with an event read makes an event read, and so on.
    for (let grew = true; grew;) {
      grew = false;
      for (const plan of plans) {
        if (!plan.usable) continue;
        if (
          (plan.conversationKey !== null && unusable.has(`c${plan.conversationKey}`)) ||
          (plan.identityKey !== null && unusable.has(`i${plan.identityKey}`))
        ) {
          markUnusable(plan);
          grew = true;
        }
      }
    }
    const writes = new Map<string, KnownIdentityWrite>();
    for (const [key, { stored, state, inputs }] of identities) {
      if (state !== stored && !unusable.has(`i${key}`)) {
        writes.set(key, { identity: state, readStamps: stored.stamps, inputs });
      }
    }
    return plans.map((plan) => {
      if (!plan.usable) return null;
      const conversation = plan.conversation ?? null;
      const identity = plan.identityKey !== null ? identities.get(plan.identityKey)! : null;
      return {
        conversationId: conversation?.id ?? null,
        snapshot: conversation,
        contactId: identity?.stored.contactId ?? null,
        identityId: identity?.stored.id ?? null,
        contactExternalId: plan.input?.externalId ?? null,
        identityWrite: plan.identityKey !== null ? (writes.get(plan.identityKey) ?? null) : null,
        conversationKey: plan.conversationKey,
        identity: identity?.state ?? null,
        identityKey: plan.identityKey,
        remembered: true,
        identityCheck: identity
          ? {
              id: identity.stored.id,
              contactId: identity.stored.contactId,
              stamps: identity.stored.stamps,
            }
          : null,
        joinCheck: null,
      };
    });
  }

  private async readMany(
    events: readonly CanonicalEvent[],
    planNewConversations: boolean,
  ): Promise<ResolvedIds[]> {
    const inputs = events.map((event) => identityInputOf(event));
    const keys = events.map((event) => pgIndexed(event.conversation?.key));
    const conversations = events.flatMap((event, index) => {
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
    });
    // The identities and the conversations are read in one statement: the worker's round
    // trips, not Postgres, are most of what an event costs. A new conversation is inserted by
    // the events' statement, with its state; on a second try (another worker inserted it
    // first), by the read.
    const identityRead = this.identityRead(inputs.filter((input) => input !== null));
    let snapshots = new Map<string, ConversationSnapshot>();
    let read: IdentitiesWithSharing | undefined;
    if (conversations.length > 0) {
      ({ snapshots, read } = await this.conversations.snapshotsOfKeys(
        conversations,
        identityRead?.part,
        planNewConversations,
      ));
    }
    const deferred = new Map<string, KnownIdentityWrite>();
    const unchecked = new Set<string>();
    const identities = identityRead
      ? await this.identitiesOf(
          identityRead,
          read ?? (await this.contacts.readAlone(identityRead.part)),
          deferred,
          unchecked,
        )
      : new Map<string, StoredIdentity>();
    return events.map((event, index) => {
      const input = inputs[index];
      const identity = input ? identities.get(identityKey(input)) : undefined;
      const identityWrite = input ? (deferred.get(identityKey(input)) ?? null) : null;
      const key = keys[index];
      const snapshot = key ? snapshots.get(key) : undefined;
      return {
        conversationId: snapshot?.id ?? null,
        snapshot: snapshot ?? null,
        contactId: identity?.contactId ?? null,
        identityId: identity?.id ?? null,
        contactExternalId: input?.externalId ?? null,
        identityWrite,
        conversationKey: snapshot ? key : null,
        identity: identity ?? null,
        identityKey: identity && input ? identityKey(input) : null,
        remembered: false,
        identityCheck: null,
        joinCheck: identity && unchecked.has(identity.id) ? identity : null,
      };
    });
  }

  /** The read of the inputs' identities, and of the contacts sharing the new ones' keys. */
  private identityRead(inputs: IdentityInput[]): IdentityRead | null {
    if (inputs.length === 0) return null;
    const mode = this.settings.CONTACT_JOIN;
    const firstOf = new Map<string, IdentityInput>();
    for (const input of inputs) {
      if (!firstOf.has(identityKey(input))) firstOf.set(identityKey(input), input);
    }
    const firsts = [...firstOf.values()];
    const firstStates = firsts.map((input) => mergeIdentity(emptyIdentityState(), input).state);
    // A new identity whose email and phone no other of the batch has may be inserted with the
    // read, if nothing stored shares them either (a new person: the common case).
    const batchKeys = new Map<string, number>();
    for (const state of firstStates) {
      for (const key of joinKeysOf(state, mode)) batchKeys.set(key, (batchKeys.get(key) ?? 0) + 1);
    }
    const alonePlans: AlonePlan[] = firsts.flatMap((input, idx) =>
      joinKeysOf(firstStates[idx], mode).every((key) => batchKeys.get(key) === 1)
        ? [
            {
              idx,
              identityId: newId('cti'),
              contactId: newId('ct'),
              input,
              state: firstStates[idx],
            },
          ]
        : [],
    );
    return {
      inputs,
      firstOf,
      firsts,
      firstStates,
      alonePlans,
      part: this.contacts.identitiesWithSharingPart(inputs, firstStates, mode, alonePlans),
    };
  }

  /**
   * The stored identity of each input, after it. Known identities the inputs tell nothing new
   * are only read. New ones are inserted together, each in the contact sharing its email or
   * phone (or a new one), in one statement; a worker inserting an identity with the same
   * email or phone at the same moment cannot see it, so the email and phone are looked up
   * again after the insert, by the events' statement (`unchecked`: their ids), and whoever
   * finds the other joins them (joinIfShared). Known identities' newer
   * fields that keep their email and phone are left in `deferred`, for the events' statement
   * (StoredEventWriter); other changes to known identities, and those joins, are written in a
   * transaction under locks on the emails and phones they join by.
   */
  private async identitiesOf(
    { inputs, firstOf, firsts, firstStates, alonePlans }: IdentityRead,
    read: IdentitiesWithSharing,
    deferred: Map<string, KnownIdentityWrite>,
    unchecked: Set<string>,
  ): Promise<Map<string, StoredIdentity>> {
    const byKey = new Map<string, StoredIdentity>();
    const mode = this.settings.CONTACT_JOIN;
    for (const stored of read.identities) byKey.set(identityKey(stored), stored);

    const slow: IdentityInput[] = [];
    const updates = new Map<
      string,
      { stored: StoredIdentity; state: StoredIdentity; inputs: IdentityInput[] }
    >();
    for (const input of inputs) {
      const key = identityKey(input);
      const stored = byKey.get(key);
      if (!stored) {
        if (firstOf.get(key) !== input) slow.push(input);
        continue;
      }
      const update = updates.get(key) ?? { stored, state: stored, inputs: [] };
      const merged = mergeIdentity(update.state, input);
      if (!merged.changed) continue;
      update.state = merged.state;
      update.inputs.push(input);
      updates.set(key, update);
    }
    this.deferKnown([...updates.values()], byKey, slow, deferred);
    const toJoin: StoredIdentity[] = [];
    const orphans: string[] = [];
    for (const plan of alonePlans) {
      if (read.inserted.has(plan.identityId)) {
        const stored = storedOf(plan);
        byKey.set(identityKey(stored), stored);
        if (joinKeysOf(stored, mode).length > 0) unchecked.add(stored.id);
      } else if (read.orphaned.has(plan.idx)) {
        // Its contact was made, but another worker stored the identity first.
        orphans.push(plan.contactId);
        slow.push(plan.input);
      }
    }
    if (orphans.length > 0) await this.contacts.deleteEmptyContacts(orphans);
    const fresh = firsts
      .map((input, index) => ({ input, state: firstStates[index], sharing: read.sharing[index] }))
      .filter(({ input }) => !byKey.has(identityKey(input)) && !slow.includes(input));
    if (fresh.length > 0) {
      const plans = this.plan(fresh, mode);
      const inserted = await this.contacts.insertIdentities(undefined, plans);
      for (const plan of plans) {
        if (!inserted.has(plan.identityId)) {
          slow.push(plan.input); // another worker stored it first
          continue;
        }
        const stored = storedOf(plan);
        byKey.set(identityKey(stored), stored);
        if (plan.others.length > 0) toJoin.push(stored);
        else if (joinKeysOf(stored, mode).length > 0) unchecked.add(stored.id);
      }
    }
    if (slow.length === 0 && toJoin.length === 0) return byKey;

    await this.writeLocked(slow, toJoin, byKey);
    // Joins move whole contacts: read where each identity of the batch is now.
    for (const stored of await this.contacts.identitiesByNativeId([...byKey.values()])) {
      byKey.set(identityKey(stored), stored);
    }
    return byKey;
  }

  /**
   * New identities whose email or phone another contact shares now (stored by another worker
   * at the same moment), joined to it under locks: the ids of those joined.
   */
  async joinIfShared(identities: StoredIdentity[]): Promise<Set<string>> {
    const mode = this.settings.CONTACT_JOIN;
    const sharing = await this.contacts.contactsSharingMany(undefined, identities, mode);
    const toJoin = identities.filter((stored, index) =>
      sharing[index].some((other) => other.contactId !== stored.contactId),
    );
    if (toJoin.length > 0) await this.writeLocked([], toJoin, new Map());
    return new Set(toJoin.map((stored) => stored.id));
  }

  /**
   * Known identities' newer fields the events' statement could not write (their stamps moved
   * since they were read): their inputs applied again under locks, joining contacts as needed.
   */
  async writeKnown(writes: KnownIdentityWrite[]): Promise<void> {
    if (writes.length === 0) return;
    await this.writeLocked(
      writes.flatMap((write) => write.inputs),
      [],
      new Map(),
    );
  }

  /** Writes `slow` and joins `toJoin` in a transaction under locks on their join keys. */
  private writeLocked(
    slow: IdentityInput[],
    toJoin: StoredIdentity[],
    byKey: Map<string, StoredIdentity>,
  ): Promise<void> {
    const mode = this.settings.CONTACT_JOIN;
    return this.contacts.transaction(async (manager) => {
      await this.contacts.lockJoinKeys(manager, [
        ...slow.flatMap((input) =>
          joinKeysOf(mergeIdentity(emptyIdentityState(), input).state, mode),
        ),
        ...toJoin.flatMap((identity) => joinKeysOf(identity, mode)),
      ]);
      const locked = new Map<string, StoredIdentity>();
      for (const identity of await this.contacts.identitiesByNativeId(
        [...slow, ...toJoin],
        manager,
        true,
      )) {
        locked.set(identityKey(identity), identity);
      }
      for (const identity of toJoin) {
        const key = identityKey(identity);
        const joined = await this.joinShared(manager, locked.get(key)!, null);
        locked.set(key, joined);
        byKey.set(key, joined);
      }
      for (const input of slow) {
        const key = identityKey(input);
        const written = await this.write(manager, locked.get(key) ?? null, input);
        locked.set(key, written!);
        byKey.set(key, written!);
      }
    });
  }

  /**
   * Known identities' newer fields, when their email and phone (what joins go by) stay as they
   * are: left in `deferred`, for the events' statement to write each only if nobody wrote it
   * since it was read, with no transaction or lock. The others go to `slow`.
   */
  private deferKnown(
    updates: { stored: StoredIdentity; state: StoredIdentity; inputs: IdentityInput[] }[],
    byKey: Map<string, StoredIdentity>,
    slow: IdentityInput[],
    deferred: Map<string, KnownIdentityWrite>,
  ): void {
    const mode = this.settings.CONTACT_JOIN;
    const contacts = new Set<string>();
    for (const { stored, state, inputs } of updates) {
      const joinable =
        stored.autoJoin &&
        mode !== 'off' &&
        (state.emailNormalized !== stored.emailNormalized || state.phoneE164 !== stored.phoneE164);
      // One identity per contact a statement: the contact shows the fields of one.
      if (joinable || contacts.has(stored.contactId)) {
        slow.push(...inputs);
        continue;
      }
      contacts.add(stored.contactId);
      const key = identityKey(state);
      deferred.set(key, { identity: state, readStamps: stored.stamps, inputs });
      byKey.set(key, state);
    }
  }

  /**
   * The contact of each new identity: the oldest of the contacts sharing its email or phone,
   * stored or planned earlier in this batch (the others join it), or a new one.
   */
  private plan(
    fresh: {
      input: IdentityInput;
      state: IdentityState;
      sharing: { contactId: string; reason: 'email' | 'phone'; value: string }[];
    }[],
    mode: ContactJoinMode,
  ) {
    const claimed = new Map<string, string>();
    return fresh.map(({ input, state, sharing }) => {
      const keys = joinKeysOf(state, mode);
      const found = [...sharing];
      for (const key of keys) {
        const contactId = claimed.get(key);
        if (contactId && !found.some((other) => other.contactId === contactId)) {
          const [reason, ...value] = key.split(':');
          found.push({ contactId, reason: reason as 'email' | 'phone', value: value.join(':') });
        }
      }
      found.sort((a, b) => (a.contactId < b.contactId ? -1 : 1));
      const [into, ...others] = found;
      const contactId = into?.contactId ?? newId('ct');
      for (const key of keys) if (!claimed.has(key)) claimed.set(key, contactId);
      return {
        identityId: newId('cti'),
        contactId,
        createContact: !into,
        input,
        state,
        reason: into?.reason ?? ('created' as const),
        value: into?.value ?? null,
        others,
      };
    });
  }

  /**
   * Joins the contacts sharing the identity's email or phone with its own: the oldest contact
   * (ids are time-ordered) stays, the others join it. Answers the identity where it is now.
   */
  private async joinShared(
    manager: EntityManager,
    identity: StoredIdentity,
    eventId: string | null,
  ): Promise<StoredIdentity> {
    const mode = this.settings.CONTACT_JOIN;
    const sharing = await this.contacts.contactsSharing(
      manager,
      identity,
      mode,
      identity.contactId,
    );
    if (sharing.length === 0) return identity;
    const into = [identity.contactId, ...sharing.map((other) => other.contactId)].sort()[0];
    for (const other of sharing.filter((other) => other.contactId !== into)) {
      await this.contacts.mergeContacts(manager, into, [other.contactId], { ...other, eventId });
    }
    if (into !== identity.contactId) {
      const why = sharing.find((other) => other.contactId === into)!;
      await this.contacts.mergeContacts(manager, into, [identity.contactId], { ...why, eventId });
    }
    return { ...identity, contactId: into };
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
    const { state: updated, changed } = mergeIdentity(stored, input);
    if (!changed) return stored;
    await this.contacts.updateIdentity(manager, updated);
    const joinable =
      stored.autoJoin &&
      mode !== 'off' &&
      (updated.emailNormalized !== stored.emailNormalized ||
        updated.phoneE164 !== stored.phoneE164);
    return joinable ? this.joinShared(manager, updated, input.eventId) : updated;
  }
}

function storedOf(plan: {
  identityId: string;
  contactId: string;
  input: IdentityInput;
  state: IdentityState;
}): StoredIdentity {
  return identityOf(plan.state, plan.state.stamps, {
    id: plan.identityId,
    contactId: plan.contactId,
    sourceId: plan.input.sourceId,
    externalId: plan.input.externalId,
    autoJoin: true,
  });
}

interface IdentityRead {
  inputs: IdentityInput[];
  /** The first input of each identity in the batch, the one a new identity is made from. */
  firstOf: Map<string, IdentityInput>;
  firsts: IdentityInput[];
  firstStates: IdentityState[];
  /** The new identities the read inserts when nothing shares their keys. */
  alonePlans: AlonePlan[];
  part: StatementReadPart<IdentitiesWithSharing>;
}

function identityKey(identity: { sourceId: string; externalId: string }): string {
  return `${identity.sourceId}\u0000${identity.externalId}`;
}
