import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './report';

export const JIVO_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'jivo', 'chat_accepted.json');

/**
 * Unique Jivo `chat_accepted` bodies: the fixture with a fresh `chat_id` and `visitor.number`
 * each time, so the router's body-hash dedupe never answers one from cache. The sequence
 * number is also how the sink recognizes a delivery (the canonical event carries it as
 * `conversation.externalId`, the raw body as `chat_id`).
 */
export class JivoBodies {
  private readonly before: string;
  private readonly between: string;
  private readonly after: string;
  private next: number;

  constructor(firstSequence = 1, fixturePath = JIVO_FIXTURE) {
    const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as Record<string, unknown>;
    const visitor = fixture.visitor as Record<string, unknown>;
    // Placeholders survive JSON.stringify and are then split on.
    const text = JSON.stringify({
      ...fixture,
      chat_id: '@SEQ_CHAT@',
      visitor: { ...visitor, number: '@SEQ_VISITOR@' },
    });
    // Both placeholders get the same number, so their order in the text does not matter.
    const parts = text.split(/"@SEQ_CHAT@"|@SEQ_VISITOR@/);
    if (parts.length !== 3) throw new Error(`${fixturePath}: unexpected shape`);
    [this.before, this.between, this.after] = parts;
    this.next = firstSequence;
  }

  /** The next body and its sequence number. */
  take(): { sequence: number; body: string } {
    const sequence = this.next++;
    return { sequence, body: `${this.before}${sequence}${this.between}${sequence}${this.after}` };
  }
}

/** The sequence number of a delivered body: canonical event or raw Jivo payload. */
export function sequenceOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as { chat_id?: unknown; conversation?: { externalId?: unknown } };
  const value = record.conversation?.externalId ?? record.chat_id;
  return value === undefined || value === null ? null : String(value);
}
