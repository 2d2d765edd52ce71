import { createHash } from 'node:crypto';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';

/** Statement texts given a name of their own; past this many, a text runs unnamed. */
const MAX_NAMED = 32;

const names = new Map<string, string>();

function nameOf(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined || names.size >= MAX_NAMED) return known;
  const name = `wr_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  names.set(text, name);
  return name;
}

interface PgClient {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * A statement run as a named prepared statement on its connection: Postgres parses its text
 * once per connection instead of at every run, and plans it once when it settles on a generic
 * plan (for the long statements of the hot path, much of what the statement costs Postgres).
 * That plan is kept for the connection's life, however the tables grow after it was made:
 * write each lookup so that no estimate can make it a scan (a `LATERAL … LIMIT 1` probe, as in
 * the conversation read; test/e2e/read-plans.e2e-spec.ts checks that one).
 * For texts that do not vary with their input; inside `manager`'s transaction when it has one.
 */
export async function preparedQuery<T>(
  target: DataSource | EntityManager,
  text: string,
  params: unknown[],
): Promise<T[]> {
  const inTransaction = target instanceof EntityManager ? target.queryRunner : undefined;
  const runner =
    inTransaction ??
    (target instanceof EntityManager ? target.connection : target).createQueryRunner();
  try {
    const client = (await runner.connect()) as PgClient;
    const result = await client
      .query({ name: nameOf(text), text, values: params })
      .catch((error: Error) => {
        throw new QueryFailedError(text, params, error);
      });
    return result.rows as T[];
  } finally {
    if (!inTransaction) await runner.release();
  }
}
