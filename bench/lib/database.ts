import { Client } from 'pg';

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Drops and creates the bench database, so no source or subscription of an earlier run can
 * receive this run's events. The router runs its migrations when it starts.
 */
export async function recreateDatabase(serverUrl: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`Unsafe database name: ${database}`);
  await withClient(`${serverUrl}/postgres`, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${database}`);
  });
}

export interface AttemptCounts {
  events: number;
  deliveries: number;
  attempts: number;
  succeededDeliveries: number;
}

/** What the router recorded for one source's events. */
export async function countAttempts(databaseUrl: string, sourceId: string): Promise<AttemptCounts> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<Record<keyof AttemptCounts, string>>(
      `SELECT
         (SELECT count(*) FROM events WHERE source_id = $1) AS events,
         (SELECT count(*) FROM deliveries d JOIN events e ON e.id = d.event_id
           WHERE e.source_id = $1) AS deliveries,
         (SELECT count(*) FROM deliveries d JOIN events e ON e.id = d.event_id
           WHERE e.source_id = $1 AND d.status = 'succeeded') AS "succeededDeliveries",
         (SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
           JOIN events e ON e.id = d.event_id WHERE e.source_id = $1) AS attempts`,
      [sourceId],
    );
    const row = rows[0];
    return {
      events: Number(row.events),
      deliveries: Number(row.deliveries),
      attempts: Number(row.attempts),
      succeededDeliveries: Number(row.succeededDeliveries),
    };
  });
}
