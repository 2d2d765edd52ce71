import { Injectable, Logger } from '@nestjs/common';
import { CanonicalEvent } from '../canonical/canonical-event';
import { Settings } from '../config/settings';
import { HttpSender } from '../outbound/http-sender';
import { checkTarget } from '../outbound/target-guard';
import { signWebhook } from '../outbound/webhook-signer';
import { AuthenticatedSource } from '../sources/sources.service';

const ANSWER_LIMIT_BYTES = 64 * 1024;

/**
 * Asks a source's enrichment endpoint (the user's CRM) for the reply the sender shows its
 * agent: POSTs the canonical event, signed like a delivery, and gives up when the budget ends.
 */
@Injectable()
export class EnrichmentClient {
  private readonly logger = new Logger(EnrichmentClient.name);

  constructor(
    private readonly sender: HttpSender,
    private readonly settings: Settings,
  ) {}

  /** The endpoint's JSON answer, or null on timeout, error, non-2xx or non-JSON. */
  async ask(
    enrichment: NonNullable<AuthenticatedSource['enrichment']>,
    event: CanonicalEvent,
  ): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), enrichment.timeoutMs);
    });
    try {
      return await Promise.race([this.call(enrichment, event), budget]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async call(
    enrichment: NonNullable<AuthenticatedSource['enrichment']>,
    event: CanonicalEvent,
  ): Promise<unknown> {
    const target = await checkTarget(enrichment.url, this.settings.ALLOW_PRIVATE_TARGETS);
    if (!target.ok) {
      this.logger.warn(`Enrichment for ${event.id} refused: ${target.reason}`);
      return null;
    }
    const body = JSON.stringify(event);
    const outcome = await this.sender.send({
      url: enrichment.url,
      body,
      headers: { ...signWebhook([enrichment.secret], event.id, body) },
      timeoutMs: enrichment.timeoutMs,
      responseLimitBytes: ANSWER_LIMIT_BYTES,
    });
    if (!outcome.succeeded || !outcome.responseExcerpt) {
      this.logger.warn(`Enrichment for ${event.id} gave nothing: ${outcome.error ?? 'empty body'}`);
      return null;
    }
    try {
      return JSON.parse(outcome.responseExcerpt);
    } catch {
      this.logger.warn(`Enrichment for ${event.id} answered something other than JSON`);
      return null;
    }
  }
}
