import fc from 'fast-check';
import { eventTypeMatches } from '../policies/event-type-pattern';
import { IndexedSubscription, SubscriptionIndex } from './subscription-index';

type Subscription = IndexedSubscription<string>;

function subscription(
  id: string,
  eventTypes: string[],
  sourceIds: string[] | null = null,
  matchesContent?: (event: unknown) => boolean,
): Subscription {
  return { id, eventTypes, sourceIds, matchesContent, value: id };
}

function naiveMatch(
  subscriptions: Subscription[],
  event: { type: string; sourceId: string },
  content?: unknown,
): string[] {
  return [...subscriptions]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .filter(
      ({ eventTypes, sourceIds, matchesContent }) =>
        eventTypes.some((pattern) => eventTypeMatches(pattern, event.type)) &&
        (!sourceIds || sourceIds.includes(event.sourceId)) &&
        (matchesContent?.(content) ?? true),
    )
    .map(({ value }) => value);
}

const SOURCE = 'src_01JA';

describe('SubscriptionIndex', () => {
  it('matches every type with a lone *', () => {
    const index = new SubscriptionIndex([subscription('all', ['*'])]);
    for (const type of ['message.created', 'source.unknown', 'message', 'a.b.c']) {
      expect(index.match({ type, sourceId: SOURCE })).toEqual(['all']);
    }
  });

  it('matches message.* on exactly one more segment', () => {
    const index = new SubscriptionIndex([subscription('messages', ['message.*'])]);
    expect(index.match({ type: 'message.created', sourceId: SOURCE })).toEqual(['messages']);
    expect(index.match({ type: 'message.updated', sourceId: SOURCE })).toEqual(['messages']);
    expect(index.match({ type: 'message', sourceId: SOURCE })).toEqual([]);
    expect(index.match({ type: 'message.created.extra', sourceId: SOURCE })).toEqual([]);
    expect(index.match({ type: 'conversation.created', sourceId: SOURCE })).toEqual([]);
  });

  it('matches *.created on any first segment', () => {
    const index = new SubscriptionIndex([subscription('created', ['*.created'])]);
    expect(index.match({ type: 'contact.created', sourceId: SOURCE })).toEqual(['created']);
    expect(index.match({ type: 'message.created', sourceId: SOURCE })).toEqual(['created']);
    expect(index.match({ type: 'conversation.typing_started', sourceId: SOURCE })).toEqual([]);
    expect(index.match({ type: 'created', sourceId: SOURCE })).toEqual([]);
  });

  it('matches an exact type only', () => {
    const index = new SubscriptionIndex([subscription('ended', ['conversation.ended'])]);
    expect(index.match({ type: 'conversation.ended', sourceId: SOURCE })).toEqual(['ended']);
    expect(index.match({ type: 'conversation.end', sourceId: SOURCE })).toEqual([]);
    expect(index.match({ type: 'conversation.ended.x', sourceId: SOURCE })).toEqual([]);
  });

  it('matches multi-segment patterns position by position', () => {
    const index = new SubscriptionIndex([
      subscription('a', ['x.*.z']),
      subscription('b', ['x.y.*']),
      subscription('c', ['*.*.*']),
      subscription('d', ['*.*']),
    ]);
    expect(index.match({ type: 'x.y.z', sourceId: SOURCE })).toEqual(['a', 'b', 'c']);
    expect(index.match({ type: 'x.q.z', sourceId: SOURCE })).toEqual(['a', 'c']);
    expect(index.match({ type: 'x.y.q', sourceId: SOURCE })).toEqual(['b', 'c']);
    expect(index.match({ type: 'x.y', sourceId: SOURCE })).toEqual(['d']);
  });

  it('returns nothing when no pattern matches', () => {
    const index = new SubscriptionIndex([
      subscription('a', ['message.*']),
      subscription('b', ['conversation.ended']),
    ]);
    expect(index.match({ type: 'contact.created', sourceId: SOURCE })).toEqual([]);
    expect(new SubscriptionIndex<string>([]).match({ type: 'x', sourceId: SOURCE })).toEqual([]);
  });

  it('keeps a source-restricted subscription to its sources', () => {
    const index = new SubscriptionIndex([
      subscription('any', ['message.*']),
      subscription('only-a', ['message.*'], ['src_A', 'src_C']),
      subscription('none', ['message.*'], []),
    ]);
    expect(index.match({ type: 'message.created', sourceId: 'src_A' })).toEqual(['any', 'only-a']);
    expect(index.match({ type: 'message.created', sourceId: 'src_C' })).toEqual(['any', 'only-a']);
    expect(index.match({ type: 'message.created', sourceId: 'src_B' })).toEqual(['any']);
  });

  it('applies the content predicate, and only to type and source candidates', () => {
    const whatsapp = jest.fn(
      (event: unknown) =>
        (event as { conversation?: { channel?: { type?: string } } } | undefined)?.conversation
          ?.channel?.type === 'whatsapp',
    );
    const index = new SubscriptionIndex([
      subscription('plain', ['message.*']),
      subscription('whatsapp', ['message.*'], null, whatsapp),
      subscription('on-source', ['message.created'], ['src_A'], whatsapp),
      subscription('other-source', ['message.*'], ['src_B'], whatsapp),
      subscription('other-type', ['conversation.*'], null, whatsapp),
    ]);
    const event = { type: 'message.created', sourceId: 'src_A' };
    const onWhatsapp = { conversation: { channel: { type: 'whatsapp' } } };
    const onTelegram = { conversation: { channel: { type: 'telegram' } } };

    expect(index.match(event, onWhatsapp)).toEqual(['on-source', 'plain', 'whatsapp']);
    expect(index.match(event, onTelegram)).toEqual(['plain']);
    expect(index.match(event)).toEqual(['plain']);
    expect(whatsapp).toHaveBeenCalledTimes(6);
  });

  it('does not serve one source the memoized candidates of another', () => {
    const index = new SubscriptionIndex([
      subscription('a', ['message.created'], ['src_A']),
      subscription('b', ['message.created'], ['src_B']),
    ]);
    for (let round = 0; round < 2; round++) {
      expect(index.match({ type: 'message.created', sourceId: 'src_A' })).toEqual(['a']);
      expect(index.match({ type: 'message.created', sourceId: 'src_B' })).toEqual(['b']);
      expect(index.match({ type: 'message.created', sourceId: 'src_C' })).toEqual([]);
    }
  });

  it('stays correct when the memo fills up and is cleared', () => {
    const index = new SubscriptionIndex(
      [
        subscription('a', ['*.created'], ['src_2']),
        subscription('b', ['message.*']),
        subscription('c', ['*'], ['src_1']),
      ],
      { maxMemoizedTypes: 2 },
    );
    const expected: Record<string, Record<string, string[]>> = {
      'message.created': { src_1: ['b', 'c'], src_2: ['a', 'b'], src_3: ['b'] },
      'contact.created': { src_1: ['c'], src_2: ['a'], src_3: [] },
      'conversation.ended': { src_1: ['c'], src_2: [], src_3: [] },
    };
    for (let round = 0; round < 3; round++) {
      for (const sourceId of ['src_1', 'src_2', 'src_3']) {
        for (const [type, bySource] of Object.entries(expected)) {
          expect(index.match({ type, sourceId })).toEqual(bySource[sourceId]);
        }
      }
    }
  });

  it('returns each subscription once, by id ascending, whatever the input order', () => {
    const index = new SubscriptionIndex([
      subscription('sub_c', ['message.created', 'message.*', '*', 'message.*']),
      subscription('sub_a', ['*.created']),
      subscription('sub_b', ['*', '*']),
      subscription('sub_ab', ['message.*'], [SOURCE]),
      subscription('sub_10', ['message.created']),
    ]);
    expect(index.size).toBe(5);
    expect(index.match({ type: 'message.created', sourceId: SOURCE })).toEqual([
      'sub_10',
      'sub_a',
      'sub_ab',
      'sub_b',
      'sub_c',
    ]);
  });

  it('hands out a fresh array on every call', () => {
    const index = new SubscriptionIndex([subscription('a', ['message.*'])]);
    const event = { type: 'message.created', sourceId: SOURCE };
    const first = index.match(event);
    first.push('junk');
    const second = index.match(event);
    index.match({ type: 'contact.created', sourceId: SOURCE });
    expect(second).toEqual(['a']);
  });

  it('is not changed by edits to its input after construction', () => {
    const input = subscription('a', ['message.*'], ['src_A']);
    const index = new SubscriptionIndex([input]);
    input.eventTypes.push('contact.*');
    input.sourceIds!.push('src_B');
    expect(index.match({ type: 'message.created', sourceId: 'src_A' })).toEqual(['a']);
    expect(index.match({ type: 'contact.created', sourceId: 'src_A' })).toEqual([]);
    expect(index.match({ type: 'message.created', sourceId: 'src_B' })).toEqual([]);
  });

  it('agrees with a naive scan of every subscription', () => {
    const segment = fc.constantFrom('a', 'b', 'c');
    const patternSegment = fc.oneof(segment, fc.constant('*'));
    const pattern = fc.oneof(
      { weight: 1, arbitrary: fc.constant('*') },
      { weight: 6, arbitrary: fc.array(patternSegment, { minLength: 1, maxLength: 3 }) },
    );
    const patterns = fc.array(
      pattern.map((p) => (Array.isArray(p) ? p.join('.') : p)),
      { maxLength: 3 },
    );
    const sources = ['s1', 's2', 's3', 's4'];
    const subscriptions = fc.uniqueArray(
      fc.record({
        id: fc.nat({ max: 200 }).map((n) => `sub_${n}`),
        eventTypes: patterns,
        sourceIds: fc.option(fc.subarray(sources.slice(0, 3)), { nil: null }),
        wantedContent: fc.option(fc.nat({ max: 2 }), { nil: undefined }),
      }),
      { selector: (s) => s.id, maxLength: 30 },
    );
    const event = fc.record({
      type: fc
        .array(
          fc.oneof({ weight: 9, arbitrary: segment }, { weight: 1, arbitrary: fc.constant('*') }),
          {
            minLength: 1,
            maxLength: 4,
          },
        )
        .map((segments) => segments.join('.')),
      sourceId: fc.constantFrom(...sources),
      content: fc.nat({ max: 2 }),
    });

    fc.assert(
      fc.property(
        subscriptions,
        fc.array(event, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(1, 3, undefined),
        (records, events, maxMemoizedTypes) => {
          const subs: Subscription[] = records.map(({ wantedContent, ...rest }) => ({
            ...rest,
            value: rest.id,
            matchesContent:
              wantedContent === undefined ? undefined : (content) => content === wantedContent,
          }));
          const index = new SubscriptionIndex(subs, { maxMemoizedTypes });
          for (const { content, ...routable } of events) {
            expect(index.match(routable, content)).toEqual(naiveMatch(subs, routable, content));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
