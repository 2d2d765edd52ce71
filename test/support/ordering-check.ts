/**
 * Checks ordered delivery: for each conversation, the order in which a receiver first accepted
 * (2xx) its webhooks must be the order the router accepted them. Shared by the e2e specs, the
 * fault suite and the bench.
 */
export interface OrderingReport {
  conversations: number;
  /** Webhooks expected at the receiver. */
  expected: number;
  /** Expected webhooks the receiver never accepted. */
  missing: number;
  /** Conversations whose first acceptances are not in accept order. */
  reordered: number;
  /** The first few reordered conversations, to read in a failure. */
  examples: { conversation: string; accepted: string[]; received: string[] }[];
}

/**
 * `accepted`: each conversation's webhook ids in the router's accept order; `firstAccepted`: the
 * receiver's webhook ids in the order it first answered each with a 2xx.
 */
export function checkOrdering(
  accepted: Map<string, string[]>,
  firstAccepted: string[],
): OrderingReport {
  const position = new Map<string, number>();
  firstAccepted.forEach((id, index) => {
    if (!position.has(id)) position.set(id, index);
  });
  let expected = 0;
  let missing = 0;
  let reordered = 0;
  const examples: OrderingReport['examples'] = [];
  for (const [conversation, ids] of accepted) {
    expected += ids.length;
    const received = ids.filter((id) => position.has(id));
    missing += ids.length - received.length;
    received.sort((a, b) => position.get(a)! - position.get(b)!);
    const inOrder = ids.filter((id) => position.has(id));
    if (received.some((id, index) => id !== inOrder[index])) {
      reordered += 1;
      if (examples.length < 3) examples.push({ conversation, accepted: ids, received });
    }
  }
  return { conversations: accepted.size, expected, missing, reordered, examples };
}

/** Each conversation's event ids in accept order, read from the router's events table. */
export async function acceptOrderFromDatabase(
  query: (sql: string, parameters: unknown[]) => Promise<{ rows: any[] } | any[]>,
  eventIds: string[],
): Promise<Map<string, string[]>> {
  const result = await query(
    `SELECT id, conversation_key FROM events
      WHERE id = ANY($1::text[]) AND conversation_key IS NOT NULL
      ORDER BY received_at, id`,
    [eventIds],
  );
  const rows = (Array.isArray(result) ? result : result.rows) as {
    id: string;
    conversation_key: string;
  }[];
  const byConversation = new Map<string, string[]>();
  for (const row of rows) {
    const ids = byConversation.get(row.conversation_key) ?? [];
    ids.push(row.id);
    byConversation.set(row.conversation_key, ids);
  }
  return byConversation;
}
