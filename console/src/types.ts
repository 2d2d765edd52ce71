/** The admin API's answers, as docs/api.md describes them. */
export interface Source {
  id: string;
  kind: string;
  name: string;
  url: string;
  token?: string;
  tokenHint: string;
  enrichmentSecret?: string;
  managed: { by: string; key: string } | null;
  createdAt: string;
  updatedAt: string;
  [setting: string]: unknown;
}

export interface Subscription {
  id: string;
  name: string;
  url: string;
  eventTypes: string[];
  sourceIds: string[] | null;
  filter: Record<string, unknown> | null;
  transform: string | null;
  payloadFormat: 'canonical' | 'raw' | 'transformed';
  headers: Record<string, string>;
  retryPolicy: { maxAttempts: number; schedule: number[]; custom: boolean };
  timeoutMs: number;
  rateLimit: { max: number; perSeconds: number } | null;
  disableAfterDeadDeliveries: number;
  consecutiveDeadDeliveries: number;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
  previousSecretExpiresAt: string | null;
  secret?: string;
  managed: { by: string; key: string } | null;
  createdAt: string;
  updatedAt: string;
}

export interface EventSummary {
  id: string;
  type: string | null;
  status: 'routed' | 'unprocessable';
  error: string | null;
  sourceId: string;
  sourceKind: string;
  sourceEvent: string | null;
  conversationKey: string | null;
  occurredAt: string;
  receivedAt: string;
}

export interface EventDetail extends EventSummary {
  event: Record<string, unknown> | null;
  raw: unknown;
  deliveries: Delivery[];
}

export interface Attempt {
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  succeeded: boolean;
  error: string | null;
  responseExcerpt: string | null;
}

export interface Delivery {
  id: string;
  eventId: string;
  subscriptionId: string;
  status: 'pending' | 'succeeded' | 'failed' | 'dead' | 'held' | 'blocked';
  attemptCount: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  completedAt: string | null;
  createdAt: string;
  updatedAt: string;
  attempts?: Attempt[];
}

export interface QueueCounts {
  queues: { name: string; counts: Record<string, number> }[];
}

export interface Overview {
  window: 'hour' | 'day';
  since: string;
  until: string;
  bucketSeconds: number;
  events: { at: string; routed: number; unprocessable: number }[];
  deliveries: {
    at: string;
    succeeded: number;
    failed: number;
    dead: number;
    pending: number;
    held: number;
    blocked: number;
  }[];
  failingSubscriptions: {
    id: string;
    name: string;
    enabled: boolean;
    failed: number;
    dead: number;
    lastError: string | null;
  }[];
  disabledSubscriptions: {
    id: string;
    name: string;
    disabledReason: string | null;
    disabledAt: string | null;
  }[];
}

export interface PlaygroundResult {
  event: Record<string, unknown>;
  input: 'stored' | 'sample';
  filter: { matched: boolean | null; error: string | null } | null;
  transform: { output: unknown; error: string | null; durationMs: number } | null;
}

export interface TestSendResult {
  eventId: string;
  eventType: string;
  startedAt: string;
  succeeded: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

export { CANONICAL_EVENT_TYPES } from '../../src/canonical/canonical-event';
