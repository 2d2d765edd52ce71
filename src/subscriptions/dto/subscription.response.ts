import { SubscriptionEntity } from '../subscription.entity';

export interface SubscriptionResponse {
  id: string;
  name: string;
  url: string;
  eventTypes: string[];
  sourceIds: string[] | null;
  headers: Record<string, string>;
  retryPolicy: { maxAttempts: number | null };
  timeoutMs: number | null;
  enabled: boolean;
  /** Present only on create and rotate. */
  secret?: string;
  createdAt: string;
  updatedAt: string;
}

export function toSubscriptionResponse(
  subscription: SubscriptionEntity,
  revealedSecret?: string,
): SubscriptionResponse {
  return {
    id: subscription.id,
    name: subscription.name,
    url: subscription.url,
    eventTypes: subscription.eventTypes,
    sourceIds: subscription.sourceIds,
    headers: subscription.headers,
    retryPolicy: { maxAttempts: subscription.maxAttempts },
    timeoutMs: subscription.timeoutMs,
    enabled: subscription.enabled,
    ...(revealedSecret ? { secret: revealedSecret } : {}),
    createdAt: subscription.createdAt.toISOString(),
    updatedAt: subscription.updatedAt.toISOString(),
  };
}
