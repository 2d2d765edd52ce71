import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { Settings } from '../config/settings';
import { SharedRedis } from '../queues/shared-redis';

const POLL_MS = 20;

/**
 * Dedupe of inbound webhooks, for the dedupe window. A webhook is identified by the sender's
 * delivery id when it sends one, else by a hash of the raw body, per source. BullMQ does the
 * claim itself: the ingest job is added with this id as its deduplication id, so queueing a
 * webhook and claiming it are one atomic Redis call, and a duplicate is told the first's job
 * id. This store keeps the one answer that cannot be rebuilt from that id: a reply enriched
 * by the source's endpoint.
 */
@Injectable()
export class DedupeStore {
  constructor(
    private readonly settings: Settings,
    private readonly shared: SharedRedis,
  ) {}

  /** The window in milliseconds, or 0 when dedupe is off. */
  get windowMs(): number {
    return this.settings.DEDUPE_WINDOW_SECONDS * 1000;
  }

  /** The deduplication id of a webhook, or null when dedupe is off. */
  idFor(sourceId: string, deliveryId: string | null, rawBody: Buffer): string | null {
    if (this.windowMs === 0) return null;
    const identity = deliveryId
      ? `delivery:${hash('sha256', deliveryId, 'hex')}`
      : `body:${hash('sha256', rawBody, 'hex')}`;
    return `${sourceId}:${identity}`;
  }

  /** Keeps the reply given for an event, so its duplicates get the same. */
  async rememberReply(eventId: string, reply: unknown): Promise<void> {
    await this.shared.client.set(
      this.replyKey(eventId),
      JSON.stringify(reply),
      'EX',
      this.settings.DEDUPE_WINDOW_SECONDS,
    );
  }

  /** The reply given for an event, waiting up to `waitMs` while it is still being made. */
  async recallReply(eventId: string, waitMs: number): Promise<unknown> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const stored = await this.shared.client.get(this.replyKey(eventId));
      if (stored !== null) return JSON.parse(stored) as unknown;
      if (Date.now() > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private replyKey(eventId: string): string {
    return this.shared.key('reply', eventId);
  }
}
