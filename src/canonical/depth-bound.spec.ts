import { CanonicalEventBody } from './canonical-event';
import { boundEventDepth, CANONICAL_MAX_DEPTH, nestsDeeperThan } from './depth-bound';

function body(extensions: Record<string, Record<string, unknown>>): CanonicalEventBody {
  return {
    type: 'source.unknown',
    occurredAt: null,
    sourceEvent: 'x',
    conversation: null,
    contact: null,
    actor: null,
    message: null,
    messages: [],
    changes: null,
    session: null,
    extensions,
  };
}

/** `levels` levels of `{"a": …}` around 1. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < levels; level++) value = { a: value };
  return value;
}

describe('boundEventDepth', () => {
  it('returns the body itself when nothing nests deeper than the bound', () => {
    // event (1) › extensions (2) › src (3) › value: 29 more levels reach exactly 32.
    const within = body({ src: { value: nested(29) as object } });
    expect(boundEventDepth(within)).toBe(within);
  });

  it('replaces what nests deeper by null and says where in extensions.router', () => {
    const original = body({ src: { value: nested(30) as object, kept: [1, { b: 2 }] } });
    const bounded = boundEventDepth(original);
    expect(nestsDeeperThan(bounded, CANONICAL_MAX_DEPTH)).toBe(false);
    expect(bounded.extensions.src.kept).toBe(original.extensions.src.kept);
    const path = ['extensions', 'src', 'value', ...Array(29).fill('a')].join('.');
    expect(bounded.extensions.router).toEqual({
      depthCut: { maxDepth: CANONICAL_MAX_DEPTH, count: 1, paths: [path] },
    });
    let cut: any = bounded.extensions.src.value;
    for (let level = 0; level < 29; level++) cut = cut.a;
    expect(cut).toBeNull();
    expect(nestsDeeperThan(original, CANONICAL_MAX_DEPTH)).toBe(true);
  });

  it('cuts inside arrays, lists ten paths at most and shortens long keys', () => {
    const longKey = 'k'.repeat(100);
    const wide = Array.from({ length: 12 }, () => [[[{ [longKey]: {} }]]]);
    const bounded = boundEventDepth(body({ src: { wide } }), 8);
    const depthCut = bounded.extensions.router.depthCut as { count: number; paths: string[] };
    expect(depthCut.count).toBe(12);
    expect(depthCut.paths).toHaveLength(10);
    expect(depthCut.paths[1]).toBe(`extensions.src.wide.1.0.0.0.${'k'.repeat(64)}…`);
    expect((bounded.extensions.src.wide as unknown[][][][])[1][0][0][0]).toEqual({
      [longKey]: null,
    });
  });

  it('bounds a value nested 100,000 deep without overflowing the stack', () => {
    const bounded = boundEventDepth(body({ src: { value: nested(100_000) as object } }));
    expect(() => JSON.stringify(bounded)).not.toThrow();
  });
});

describe('nestsDeeperThan', () => {
  it.each([
    [1, 0, false],
    [{}, 1, false],
    [{}, 0, true],
    [[[[]]], 3, false],
    [[[[]]], 2, true],
    [nested(5), 5, false],
    [nested(5), 4, true],
  ])('%j within %d levels: deeper is %p', (value, limit, deeper) => {
    expect(nestsDeeperThan(value, limit)).toBe(deeper);
  });

  it('measures a value nested a million deep', () => {
    expect(nestsDeeperThan(nested(1_000_000), 1000)).toBe(true);
  });
});
