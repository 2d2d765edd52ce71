import { ConversationMemory } from './conversation-memory';
import { emptyConversationState, emptyMessageState, MessageState } from './conversation-state';
import type { StoredIdentity } from './contacts.repository';
import type { ConversationSnapshot } from './conversations.repository';

function snapshot(id: string, version: number, messageIds: string[] = []): ConversationSnapshot {
  const message = (externalId: string): MessageState => ({
    ...emptyMessageState(externalId, '2026-05-01T10:00:00.000Z'),
    direction: 'inbound',
    text: externalId,
  });
  return {
    id,
    version: String(version),
    state: emptyConversationState(),
    lastMessage: null,
    messages: new Map(messageIds.map((externalId) => [externalId, message(externalId)])),
    storedMessageIds: new Set(messageIds),
    toInsert: null,
  };
}

const REMEMBERED_CONVERSATIONS = 5_000;

describe('ConversationMemory', () => {
  it('forgets the conversations least recently remembered beyond its size', () => {
    const memory = new ConversationMemory(REMEMBERED_CONVERSATIONS);
    const total = Math.ceil(REMEMBERED_CONVERSATIONS * 1.1);
    for (let index = 0; index < total; index++) {
      memory.rememberConversation(`key-${index}`, snapshot(`conv_${index}`, 1));
      // The first one is written again and again, so the second is the first forgotten.
      if (index > 0) memory.rememberConversation('key-0', snapshot('conv_0', index + 1));
      // A few past its size at most, forgotten together.
      expect(memory.sizes.conversations).toBeLessThanOrEqual(
        REMEMBERED_CONVERSATIONS + REMEMBERED_CONVERSATIONS / 50,
      );
    }
    expect(memory.sizes.conversations).toBeGreaterThanOrEqual(REMEMBERED_CONVERSATIONS);
    expect(memory.conversation('key-0')?.id).toBe('conv_0');
    expect(memory.conversation('key-1')).toBeUndefined();
    expect(memory.conversation(`key-${total - REMEMBERED_CONVERSATIONS + 1}`)?.version).toBe('1');
    expect(memory.conversation(`key-${total - 1}`)?.version).toBe('1');
  });

  it('keeps the newest message states, and no older version over a newer one', () => {
    const memory = new ConversationMemory(REMEMBERED_CONVERSATIONS);
    const ids = Array.from({ length: 30 }, (_, index) => `m${index}`);
    memory.rememberConversation('key', snapshot('conv_1', 3, ids));
    const kept = memory.conversation('key')!;
    expect([...kept.messages.keys()]).toEqual(ids.slice(-10));
    expect(kept.storedMessageIds?.size).toBe(30);
    memory.rememberConversation('key', snapshot('conv_1', 2));
    expect(memory.conversation('key')?.version).toBe('3');
    memory.forget('key', null);
    expect(memory.conversation('key')).toBeUndefined();
  });

  it('remembers as many as it is sized for, identities twice as many, and none at 0', () => {
    const identity = (id: string) => ({ id }) as unknown as StoredIdentity;
    const small = new ConversationMemory(64);
    for (let index = 0; index < 1_000; index++) {
      small.rememberConversation(`key-${index}`, snapshot(`conv_${index}`, 1));
      small.rememberIdentity(`identity-${index}`, identity(`cti_${index}`));
    }
    expect(small.sizes.conversations).toBeGreaterThanOrEqual(64);
    expect(small.sizes.conversations).toBeLessThanOrEqual(65);
    expect(small.sizes.identities).toBeGreaterThanOrEqual(128);
    expect(small.sizes.identities).toBeLessThanOrEqual(130);
    expect(small.conversation('key-999')?.id).toBe('conv_999');
    expect(small.conversation('key-900')).toBeUndefined();

    const none = new ConversationMemory(0);
    none.rememberConversation('key', snapshot('conv_1', 1));
    none.rememberIdentity('identity', identity('cti_1'));
    expect(none.sizes).toEqual({ conversations: 0, identities: 0 });
    expect(none.conversation('key')).toBeUndefined();
  });
});
