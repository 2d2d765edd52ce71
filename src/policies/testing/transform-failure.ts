import { TransformError } from '../payload-transform';

/** The TransformError a transform run rejects with; fails the test if it resolves or rejects otherwise. */
export async function transformFailure(promise: Promise<unknown>): Promise<TransformError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TransformError);
  return error as TransformError;
}
