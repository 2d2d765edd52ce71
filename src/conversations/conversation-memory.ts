import type { StoredIdentity } from './contacts.repository';
import { ConversationSnapshot, MESSAGE_IDS_LISTED } from './conversations.repository';

/** Message states kept per remembered conversation (the newest touched). */
const REMEMBERED_MESSAGES = 10;

/** A Map that forgets its least recently set entries beyond `capacity`. */
class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  /** Entries past capacity before the oldest are forgotten (a few at a time). */
  private readonly slack: number;

  constructor(private readonly capacity: number) {
    this.slack = Math.ceil(capacity / 64);
  }

  /** A read does not count as use: what is remembered is used to write, and set again then. */
  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size <= this.capacity + this.slack) return;
    // A Map's iterator walks over the slots its deletes left until it is rehashed: one walk
    // forgets the oldest entries beyond capacity together, not one walk per entry set.
    let excess = this.entries.size - this.capacity;
    for (const oldest of this.entries.keys()) {
      if (excess-- <= 0) break;
      this.entries.delete(oldest);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * What one worker process learned of conversations and identities when it last stored an
 * event of them, so its next event of the same ones skips the read. Nothing here is trusted:
 * the event's statement writes only if each conversation's version and each identity's contact
 * and field stamps are still those remembered (docs/conversations.md).
 */
export class ConversationMemory {
  private readonly conversations: LruMap<string, ConversationSnapshot>;
  private readonly identities: LruMap<string, StoredIdentity>;

  /** `size` conversations (CONVERSATION_MEMORY_SIZE), twice as many identities; 0 remembers none. */
  constructor(size: number) {
    this.conversations = new LruMap(size);
    this.identities = new LruMap(size * 2);
  }

  conversation(key: string): ConversationSnapshot | undefined {
    return this.conversations.get(key);
  }

  identity(key: string): StoredIdentity | undefined {
    return this.identities.get(key);
  }

  /**
   * A conversation as a statement left it (with at most REMEMBERED_MESSAGES message states);
   * an older version than the one kept is ignored.
   */
  rememberConversation(key: string, snapshot: ConversationSnapshot): void {
    const kept = this.conversations.get(key);
    if (kept && kept.id === snapshot.id && Number(kept.version) > Number(snapshot.version)) {
      return;
    }
    const ids = snapshot.storedMessageIds;
    const tooManyIds = ids !== null && ids.size > MESSAGE_IDS_LISTED;
    if (snapshot.messages.size <= REMEMBERED_MESSAGES && !tooManyIds) {
      this.conversations.set(key, snapshot);
      return;
    }
    this.conversations.set(key, {
      ...snapshot,
      messages:
        snapshot.messages.size > REMEMBERED_MESSAGES
          ? new Map([...snapshot.messages].slice(-REMEMBERED_MESSAGES))
          : snapshot.messages,
      storedMessageIds: tooManyIds ? null : ids,
    });
  }

  rememberIdentity(key: string, identity: StoredIdentity): void {
    this.identities.set(key, identity);
  }

  forget(conversationKey: string | null, identityKey: string | null): void {
    if (conversationKey !== null) this.conversations.delete(conversationKey);
    if (identityKey !== null) this.identities.delete(identityKey);
  }

  get sizes(): { conversations: number; identities: number } {
    return { conversations: this.conversations.size, identities: this.identities.size };
  }
}
