import { EVENT_TYPE_PATTERN, eventTypeMatches } from './event-type-pattern';

describe('eventTypeMatches', () => {
  it.each([
    ['message.*', 'message.created', true],
    ['message.*', 'message.updated', true],
    ['message.*', 'conversation.created', false],
    ['*.created', 'contact.created', true],
    ['*.created', 'conversation.typing_started', false],
    ['conversation.ended', 'conversation.ended', true],
    ['conversation.ended', 'conversation.end', false],
    ['*', 'source.unknown', true],
    ['*.*', 'call.updated', true],
    ['message', 'message.created', false],
    ['message.*.*', 'message.created', false],
  ])('%s against %s → %s', (pattern, type, expected) => {
    expect(eventTypeMatches(pattern, type)).toBe(expected);
  });
});

describe('EVENT_TYPE_PATTERN', () => {
  it('accepts patterns and refuses junk', () => {
    for (const good of ['*', 'message.*', 'conversation.typing_started', '*.created']) {
      expect(EVENT_TYPE_PATTERN.test(good)).toBe(true);
    }
    for (const bad of ['', 'Message.created', 'message.', '.created', 'message.cre*', '**']) {
      expect(EVENT_TYPE_PATTERN.test(bad)).toBe(false);
    }
  });
});
