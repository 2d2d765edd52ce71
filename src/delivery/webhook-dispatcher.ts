import { Injectable } from '@nestjs/common';
import { Settings } from '../config/settings';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { AttemptOutcome, failure, HttpSender } from '../outbound/http-sender';
import { TransformError } from '../policies/payload-transform';
import { SandboxUnavailableError, TransformSandboxPool } from './transform-sandbox';
import { signWebhook } from '../outbound/webhook-signer';

/** What one attempt needs: the subscription with its secrets, and the event in both forms. */
export interface DispatchRequest {
  subscription: Pick<
    SubscriptionEntity,
    | 'url'
    | 'headers'
    | 'secret'
    | 'previousSecret'
    | 'previousSecretExpiresAt'
    | 'payloadFormat'
    | 'transform'
    | 'timeoutMs'
  >;
  /** The `webhook-id`: the event id, the same on every attempt, retry and replay. */
  messageId: string;
  /** The canonical event as stored: JSON text, sent as it is in the canonical format. */
  canonicalJson: string;
  /** canonicalJson's UTF-8 bytes when the caller has them (one event, several subscriptions). */
  canonicalBytes?: Buffer;
  rawBody: string | null;
}

/**
 * Makes and sends one attempt: shapes the body (canonical, raw or transformed), signs it with
 * the current secret (and the rotated-out one while it is in grace), POSTs it. Throws only when
 * the router itself cannot run a transform (SandboxUnavailableError): no attempt was made.
 */
@Injectable()
export class WebhookDispatcher {
  constructor(
    private readonly sender: HttpSender,
    private readonly sandboxes: TransformSandboxPool,
    private readonly settings: Settings,
  ) {}

  async dispatch(request: DispatchRequest, at: Date = new Date()): Promise<AttemptOutcome> {
    const { subscription } = request;
    let body: Buffer;
    try {
      // Encoded once, then signed and sent as the same bytes.
      const shaped = this.body(request);
      body = Buffer.isBuffer(shaped) ? shaped : Buffer.from(await shaped, 'utf8');
    } catch (error) {
      if (error instanceof SandboxUnavailableError) throw error;
      // TransformError messages already say "transform …".
      return failure(
        0,
        error instanceof TransformError
          ? error.message
          : `payload unavailable: ${(error as Error).message}`,
        false,
      );
    }
    return this.sender.send({
      url: subscription.url,
      body,
      headers: {
        ...subscription.headers,
        ...signWebhook(signingSecrets(subscription, at), request.messageId, body, at),
      },
      timeoutMs: subscription.timeoutMs ?? this.settings.DELIVERY_TIMEOUT_MS,
      allowPrivateTargets: this.settings.ALLOW_PRIVATE_TARGETS,
    });
  }

  private body({
    subscription,
    canonicalJson,
    canonicalBytes,
    rawBody,
  }: DispatchRequest): Promise<string> | string | Buffer {
    switch (subscription.payloadFormat) {
      case 'canonical':
        return canonicalBytes ?? canonicalJson;
      case 'raw':
        if (rawBody === null) throw new Error('the raw body was not kept');
        return rawBody;
      case 'transformed':
        if (!subscription.transform) throw new TransformError('no transform is set');
        return this.sandboxes.run(subscription.transform, canonicalJson, {
          timeoutMs: this.settings.TRANSFORM_TIMEOUT_MS,
          maxOutputBytes: this.settings.TRANSFORM_MAX_OUTPUT_BYTES,
          maxDepth: 200,
        });
      default: {
        const unknown: never = subscription.payloadFormat;
        throw new Error(`unknown payload format ${String(unknown)}`);
      }
    }
  }
}

/** The current secret, and during a rotation's grace the previous one too (Standard Webhooks allows several). */
export function signingSecrets(
  subscription: Pick<SubscriptionEntity, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>,
  at: Date,
): string[] {
  const inGrace =
    subscription.previousSecret &&
    subscription.previousSecretExpiresAt &&
    subscription.previousSecretExpiresAt.getTime() > at.getTime();
  return inGrace ? [subscription.secret, subscription.previousSecret!] : [subscription.secret];
}
