/**
 * A subscription's optional JSONata expression: it shapes the delivery body from the canonical
 * event for targets that want their own fields (Google Sheets, Pipedrive, RD Station…).
 */
import jsonata from 'jsonata';

export const MAX_TRANSFORM_BYTES = 16 * 1024;

export interface TransformLimits {
  /** Wall-clock budget of one evaluation. */
  timeoutMs: number;
  /** UTF-8 bytes of the JSON body. */
  maxOutputBytes: number;
  /** JSONata's evaluation depth (about three per level of recursion), and the output's nesting. */
  maxDepth: number;
}

export const DEFAULT_TRANSFORM_LIMITS: Readonly<TransformLimits> = Object.freeze({
  timeoutMs: 1000,
  maxOutputBytes: 256 * 1024,
  maxDepth: 200,
});

export type TransformFailure =
  | 'invalid'
  | 'evaluation'
  | 'timeout'
  | 'depth'
  | 'no_output'
  | 'not_json'
  | 'too_large'
  /** Killed its sandbox by outgrowing the heap budget, or a value larger than V8 can hold. */
  | 'memory'
  /** Its sandbox died of something else while it ran. */
  | 'crashed';

/** Why a transform gave no body; the message is meant for the delivery attempt's record. */
export class TransformError extends Error {
  override readonly name = 'TransformError';

  constructor(
    message: string,
    readonly reason: TransformFailure = 'evaluation',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What is wrong with an expression, in words for the API caller; empty when it compiles. */
export function transformProblems(expression: unknown): string[] {
  const problem = sourceProblem(expression) ?? compileProblem(expression as string);
  return problem ? [problem] : [];
}

/**
 * A parsed expression. JSONata's own guardrails bound time and depth: they are read from the
 * options given when compiling and timed from the start of each evaluation, so concurrent
 * applies share nothing. One JSONata expression is kept per distinct pair of limits.
 */
export class CompiledTransform {
  private readonly evaluators = new Map<string, jsonata.Expression>();

  constructor(readonly expression: string) {
    const problem = sourceProblem(expression);
    if (problem) throw new TransformError(problem, 'invalid');
    try {
      this.evaluatorFor(DEFAULT_TRANSFORM_LIMITS);
    } catch (error) {
      throw new TransformError(`transform does not compile: ${jsonataMessage(error)}`, 'invalid', {
        cause: error,
      });
    }
  }

  /** The delivery body: the expression's result as a JSON string. Throws a TransformError. */
  async apply(event: unknown, limits: TransformLimits = DEFAULT_TRANSFORM_LIMITS): Promise<string> {
    let result: unknown;
    try {
      result = await this.evaluatorFor(limits).evaluate(event);
    } catch (error) {
      throw evaluationError(error, limits);
    }
    if (result === undefined) throw new TransformError('transform produced no output', 'no_output');
    return toJson(result, limits);
  }

  private evaluatorFor({ timeoutMs, maxDepth }: TransformLimits): jsonata.Expression {
    if (!(timeoutMs > 0 && maxDepth > 0)) {
      throw new RangeError('transform limits must be positive');
    }
    const key = `${timeoutMs}/${maxDepth}`;
    let evaluator = this.evaluators.get(key);
    if (!evaluator) {
      evaluator = jsonata(this.expression, { timeout: timeoutMs, stack: maxDepth });
      if (this.evaluators.size >= 8) this.evaluators.clear();
      this.evaluators.set(key, evaluator);
    }
    return evaluator;
  }
}

export function compileTransform(expression: string): CompiledTransform {
  return new CompiledTransform(expression);
}

/** Compiled transforms by expression, least recently used dropped first. */
export class TransformCache {
  private readonly entries = new Map<string, CompiledTransform>();

  constructor(readonly capacity = 1000) {}

  get size(): number {
    return this.entries.size;
  }

  get(expression: string): CompiledTransform {
    let compiled = this.entries.get(expression);
    if (compiled) {
      this.entries.delete(expression);
    } else {
      compiled = new CompiledTransform(expression);
      if (this.entries.size >= this.capacity) {
        this.entries.delete(this.entries.keys().next().value as string);
      }
    }
    this.entries.set(expression, compiled);
    return compiled;
  }
}

const sharedCache = new TransformCache();

/** The process-wide cache the delivery worker uses: each distinct expression is parsed once. */
export function getCompiledTransform(expression: string): CompiledTransform {
  return sharedCache.get(expression);
}

function sourceProblem(expression: unknown): string | undefined {
  if (typeof expression !== 'string') return 'transform must be a string';
  if (!expression.trim()) return 'transform must not be empty';
  const bytes = Buffer.byteLength(expression);
  if (bytes > MAX_TRANSFORM_BYTES) {
    return `transform is ${bytes} bytes, more than the ${MAX_TRANSFORM_BYTES} allowed`;
  }
  return undefined;
}

function compileProblem(expression: string): string | undefined {
  try {
    jsonata(expression);
    return undefined;
  } catch (error) {
    return `transform does not compile: ${jsonataMessage(error)}`;
  }
}

interface JsonataError {
  code: string;
  message?: string;
  position?: number;
  /** Set when `$eval` wraps the error of the expression it evaluated. */
  error?: unknown;
}

function isJsonataError(error: unknown): error is JsonataError {
  return (
    typeof error === 'object' && error !== null && typeof Reflect.get(error, 'code') === 'string'
  );
}

function jsonataMessage(error: unknown): string {
  if (isJsonataError(error)) {
    const message = error.message || error.code;
    return typeof error.position === 'number'
      ? `${message} at position ${error.position}`
      : message;
  }
  return error instanceof Error ? error.message : String(error);
}

function evaluationError(error: unknown, limits: TransformLimits): TransformError {
  for (let inner = error; isJsonataError(inner); inner = inner.error) {
    if (inner.code === 'D1012') {
      return new TransformError(`transform timed out after ${limits.timeoutMs} ms`, 'timeout');
    }
    if (inner.code === 'D1011') {
      return new TransformError(
        `transform went deeper than ${limits.maxDepth} levels (runaway recursion?)`,
        'depth',
      );
    }
  }
  return new TransformError(`transform failed: ${jsonataMessage(error)}`, 'evaluation', {
    cause: error,
  });
}

/**
 * JSON.stringify would quietly drop functions (or walk into a JSONata lambda's closure), turn
 * Infinity into null, and build the whole string before its size could be checked.
 */
function toJson(result: unknown, limits: TransformLimits): string {
  const parts: string[] = [];
  let bytes = 0;
  const tooLarge = () =>
    new TransformError(
      `transform output is larger than ${limits.maxOutputBytes} bytes`,
      'too_large',
    );
  const emit = (text: string) => {
    bytes += Buffer.byteLength(text);
    if (bytes > limits.maxOutputBytes) throw tooLarge();
    parts.push(text);
  };
  const notJson = (what: string, path: string) =>
    new TransformError(`transform output is not plain JSON: ${what} at ${path}`, 'not_json');

  const write = (value: unknown, path: string, depth: number): void => {
    switch (typeof value) {
      case 'string':
        // never fewer UTF-8 bytes than UTF-16 units: no need to escape a string that is too long
        if (value.length > limits.maxOutputBytes) throw tooLarge();
        return emit(JSON.stringify(value));
      case 'boolean':
        return emit(String(value));
      case 'number':
        if (!Number.isFinite(value)) throw notJson(`the number ${value}`, path);
        return emit(JSON.stringify(value));
      case 'object':
        break;
      case 'function':
        throw notJson('a function', path);
      case 'bigint':
      case 'symbol':
      case 'undefined':
        throw notJson(`a ${typeof value}`, path);
    }
    if (value === null) return emit('null');
    if (Reflect.get(value, '_jsonata_lambda') === true || Reflect.get(value, '_jsonata_function')) {
      throw notJson('a function', path);
    }
    if (depth > limits.maxDepth) {
      throw new TransformError(
        `transform output is nested deeper than ${limits.maxDepth} levels`,
        'depth',
      );
    }
    if (Array.isArray(value)) {
      emit('[');
      value.forEach((item, index) => {
        if (index) emit(',');
        write(item === undefined ? null : item, `${path}[${index}]`, depth + 1);
      });
      return emit(']');
    }
    emit('{');
    let first = true;
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      emit(`${first ? '' : ','}${JSON.stringify(key)}:`);
      first = false;
      write(item, `${path}.${key}`, depth + 1);
    }
    emit('}');
  };

  write(result, '$', 1);
  return parts.join('');
}
