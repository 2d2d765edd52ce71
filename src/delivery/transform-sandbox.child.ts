/**
 * A transform sandbox: a child process the TransformSandboxPool forks, with a capped heap, that
 * evaluates one transform at a time and may die doing it. Each distinct expression is compiled
 * once here and kept (least recently used dropped first).
 */
import {
  getCompiledTransform,
  TransformError,
  TransformFailure,
  TransformLimits,
} from '../policies/payload-transform';

export interface SandboxRequest {
  id: number;
  expression: string;
  /** The canonical event as JSON text. */
  input: string;
  limits: TransformLimits;
}

export type SandboxMessage =
  | { ready: true }
  | { id: number; body: string }
  | { id: number; error: { message: string; reason: TransformFailure } };

async function evaluate({ id, expression, input, limits }: SandboxRequest) {
  try {
    const body = await getCompiledTransform(expression).apply(JSON.parse(input), limits);
    return { id, body };
  } catch (error) {
    const failure =
      error instanceof TransformError
        ? error
        : new TransformError(`transform failed: ${(error as Error).message}`);
    return { id, error: { message: failure.message, reason: failure.reason } };
  }
}

function send(message: SandboxMessage): void {
  // The pool may have gone (shut down, or killed): then there is no one left to answer.
  if (process.connected) process.send!(message, undefined, undefined, () => undefined);
}

process.on('message', (request: SandboxRequest) => {
  void evaluate(request).then(send);
});
// The pool's process is gone, however it went: a sandbox never outlives it.
process.on('disconnect', () => process.exit(0));
send({ ready: true });
