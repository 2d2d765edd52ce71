import { ConversationMemory, REMEMBERED_CONVERSATIONS } from './conversation-memory';
import { emptyConversationState, emptyMessageState, MessageState } from './conversation-state';
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
  };
}

describe('ConversationMemory', () => {
  it('forgets the conversations least recently remembered beyond its size', () => {
    const memory = new ConversationMemory();
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
    const memory = new ConversationMemory();
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
});
