import { randomUUID } from 'node:crypto';
import { fixtureText } from '../../support/fixtures';

/** One webhook sent and what the API answered. */
export interface SentWebhook {
  /** 1 for the first webhook sent, and so on. */
  sequence: number;
  deliveryId: string;
  sentAt: number;
  answeredAt: number;
  /** HTTP status, or 0 when no answer came (connection refused, reset, timed out). */
  status: number;
  eventId: string | null;
}

export interface LoadDriverOptions {
  /** The source's inbound URL on the API process. */
  webhookUrl: string;
  ratePerSecond: number;
  requestTimeoutMs?: number;
  /** The chat message's text; by default one that names the webhook. */
  messageText?: (sequence: number, deliveryId: string) => string;
  /** Spread the webhooks over this many conversations, in turn; by default all in the fixture's one. */
  conversations?: number;
}

const DEFAULT_TEXT = (sequence: number, deliveryId: string) =>
  `fault load #${sequence} (${deliveryId})`;

/**
 * Posts unique Chatwoot `message_created` webhooks at a steady rate, without waiting for
 * answers (a slow or failing API must not slow the load down), and records every outcome.
 * Each body carries its own delivery id, as a header and in the payload, so no two are deduped.
 */
export class LoadDriver {
  readonly sent: SentWebhook[] = [];
  private readonly template = JSON.parse(fixtureText('chatwoot', 'message_created.json')) as Record<
    string,
    unknown
  >;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private sequence = 0;

  constructor(private readonly options: LoadDriverOptions) {}

  start(): void {
    const startedAt = Date.now();
    // Catches up on ticks a busy event loop delayed, so the rate holds on average.
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - startedAt) / 1000) * this.options.ratePerSecond);
      while (this.sequence < due) this.track(this.post(++this.sequence));
    }, 10);
  }

  /** Stops sending and waits for every answer still outstanding. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.inFlight);
  }

  private track(request: Promise<void>): void {
    this.inFlight.add(request);
    void request.finally(() => this.inFlight.delete(request));
  }

  private async post(sequence: number): Promise<void> {
    const deliveryId = randomUUID();
    const conversations = this.options.conversations;
    const conversationId = conversations ? 60_000 + (sequence % conversations) : null;
    const body = JSON.stringify({
      ...this.template,
      id: 1_000_000 + sequence,
      content: (this.options.messageText ?? DEFAULT_TEXT)(sequence, deliveryId),
      ...(conversationId !== null && {
        conversation: {
          ...(this.template.conversation as object),
          id: conversationId,
          display_id: conversationId,
        },
      }),
    });
    const sentAt = Date.now();
    let status = 0;
    let eventId: string | null = null;
    try {
      const response = await fetch(this.options.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-chatwoot-delivery': deliveryId },
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000),
      });
      status = response.status;
      const text = await response.text();
      if (status === 200) eventId = (JSON.parse(text) as { eventId?: string }).eventId ?? null;
    } catch {
      status = 0;
    }
    this.sent.push({ sequence, deliveryId, sentAt, answeredAt: Date.now(), status, eventId });
  }
}
