/**
 * Filter `$regex` runs on text any chat visitor writes, so it runs on RE2 (the pure-JS port
 * re2js): time linear in the text, whatever the pattern. Patterns keep JavaScript's syntax;
 * what RE2 cannot run in linear time (backreferences, lookaround) is refused when written.
 */
import { RE2JS } from 're2js';

/**
 * RE2's cost of a pattern. Past about 2,000 instructions its DFA outgrows its cache and matching
 * 1 MB of text takes a minute; up to this many it stays under a quarter of a second.
 */
export const MAX_REGEX_PROGRAM_SIZE = 1000;

const FLAGS: Record<string, number> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
  // RE2 always reads code points and knows \p{…}: nothing to switch on.
  u: 0,
};

const LOOKAROUNDS: [prefix: string, name: string][] = [
  ['(?<=', 'lookbehind'],
  ['(?<!', 'negative lookbehind'],
  ['(?=', 'lookahead'],
  ['(?!', 'negative lookahead'],
];

export interface LinearRegex {
  test(text: string): boolean;
}

/** Why RE2 cannot take a pattern that is valid JavaScript, in words; undefined when it can. */
export function linearRegexProblem(pattern: string, flags = ''): string | undefined {
  const construct = unsupportedConstruct(pattern);
  if (construct) return `uses ${construct}, which the linear-time regex engine cannot run`;
  let compiled: RE2JS;
  try {
    compiled = compile(pattern, flags);
  } catch (error) {
    return `is not supported by the linear-time regex engine: ${(error as Error).message}`;
  }
  const size = compiled.programSize();
  if (size > MAX_REGEX_PROGRAM_SIZE) {
    return `is too complex for the linear-time regex engine (${size} instructions, at most ${MAX_REGEX_PROGRAM_SIZE})`;
  }
  return undefined;
}

/** Compiles a pattern `linearRegexProblem` accepted; throws on one it refuses. */
export function compileLinearRegex(pattern: string, flags = ''): LinearRegex {
  const problem = linearRegexProblem(pattern, flags);
  if (problem) throw new Error(`regular expression ${problem}`);
  return compile(pattern, flags);
}

function compile(pattern: string, flags: string): RE2JS {
  const mask = [...flags].reduce((bits, flag) => bits | (FLAGS[flag] ?? 0), 0);
  return RE2JS.compile(RE2JS.translateRegExp(pattern), mask);
}

/** Backreferences and lookaround, found by reading the pattern as JavaScript does. */
function unsupportedConstruct(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && next >= '1' && next <= '9') return `a backreference (\\${next})`;
      if (!inClass && next === 'k' && pattern[i + 2] === '<') {
        return 'a named backreference (\\k<…>)';
      }
      i += 1;
    } else if (inClass) {
      if (char === ']') inClass = false;
    } else if (char === '[') {
      inClass = true;
    } else if (char === '(') {
      const lookaround = LOOKAROUNDS.find(([prefix]) => pattern.startsWith(prefix, i));
      if (lookaround) return `a ${lookaround[1]} (${lookaround[0]}…)`;
    }
  }
  return undefined;
}
