import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './report';

export const JIVO_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'jivo', 'chat_accepted.json');

/**
 * Unique Jivo `chat_accepted` bodies: the fixture with a fresh `chat_id`, `visitor.number`,
 * email and phone each time: every request is a new visitor (so the router's body-hash dedupe
 * never answers one from cache, and the contacts the worker keeps are as many people as
 * requests, not one person with thousands of identities). The sequence number is also how the
 * sink recognizes a delivery (the canonical event carries it as `conversation.externalId`, the
 * raw body as `chat_id`).
 */
export class JivoBodies {
  /** The text around the placeholders, and which placeholder follows each part. */
  private readonly parts: string[];
  private readonly slots: string[];
  private next: number;

  /**
   * `pass`: a body of a later pass (BENCH_E2E_VISITORS=known) for the same chats and visitors,
   * marked so the body-hash dedupe does not answer it as the earlier pass's.
   */
  constructor(firstSequence = 1, fixturePath = JIVO_FIXTURE, pass?: number) {
    const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as Record<string, unknown>;
    const visitor = fixture.visitor as Record<string, unknown>;
    // Placeholders survive JSON.stringify and are then split on.
    const text = JSON.stringify({
      ...fixture,
      ...(pass === undefined ? {} : { bench_pass: pass }),
      chat_id: '@SEQ_CHAT@',
      visitor: {
        ...visitor,
        number: '@SEQ@',
        email: 'visitor-@SEQ@@example.com',
        phone: '+14089@SEQ_PHONE@',
      },
    });
    const pieces = text.split(/("@SEQ_CHAT@"|@SEQ_PHONE@|@SEQ@)/);
    this.parts = pieces.filter((_, index) => index % 2 === 0);
    this.slots = pieces.filter((_, index) => index % 2 === 1);
    if (this.slots.length !== 4) throw new Error(`${fixturePath}: unexpected shape`);
    this.next = firstSequence;
  }

  /** The sequence number the next body takes. */
  get nextSequence(): number {
    return this.next;
  }

  /** The next body and its sequence number. */
  take(): { sequence: number; body: string } {
    const sequence = this.next++;
    let body = this.parts[0];
    this.slots.forEach((slot, index) => {
      body +=
        slot === '@SEQ_PHONE@' ? String(sequence % 1_000_000).padStart(6, '0') : String(sequence);
      body += this.parts[index + 1];
    });
    return { sequence, body };
  }
}

/** The sequence number of a delivered body: canonical event or raw Jivo payload. */
export function sequenceOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as { chat_id?: unknown; conversation?: { externalId?: unknown } };
  const value = record.conversation?.externalId ?? record.chat_id;
  return value === undefined || value === null ? null : String(value);
}
