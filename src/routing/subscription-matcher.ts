import { Injectable, Logger } from '@nestjs/common';
import { SharedRedis } from '../queues/shared-redis';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { compileContentFilter } from './content-filter';
import { SubscriptionIndex } from './subscription-index';

export interface RoutableEvent {
  type: string;
  sourceId: string;
}

/** Even if a change notice were lost (Redis flushed), no process keeps a stale index longer. */
const MAX_INDEX_AGE_MS = 60_000;

interface LoadedIndex {
  version: string;
  loadedAt: number;
  index: SubscriptionIndex<SubscriptionEntity>;
  byId: Map<string, SubscriptionEntity>;
}

/**
 * Which enabled subscriptions want an event, from an in-memory index of them all. Every change
 * bumps a version in Redis; each match reads it (one GET) and rebuilds the index when it moved,
 * so a subscription created, changed or disabled in any process applies to the next event.
 * The delivery worker reads subscriptions (with their secrets) from the same index.
 */
@Injectable()
export class SubscriptionMatcher {
  private readonly logger = new Logger(SubscriptionMatcher.name);
  private loaded: LoadedIndex | null = null;
  private loading: Promise<LoadedIndex> | null = null;
  private versionRead: Promise<string> | null = null;

  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly redis: SharedRedis,
  ) {}

  async match(event: RoutableEvent, canonical?: unknown): Promise<SubscriptionEntity[]> {
    const { index } = await this.current();
    return index.match(event, canonical);
  }

  /**
   * A subscription with its secrets: from the index when it is enabled (as of the current
   * version), else from Postgres; null when it does not exist.
   */
  async withSecrets(id: string): Promise<SubscriptionEntity | null> {
    const { byId } = await this.current();
    return byId.get(id) ?? (await this.subscriptions.findWithSecrets(id));
  }

  /** Tells every process that subscriptions changed; call after the change is committed. */
  async invalidate(): Promise<void> {
    this.loaded = null;
    await this.redis.client.incr(this.versionKey());
  }

  private async current(): Promise<LoadedIndex> {
    const version = await this.readVersion();
    const loaded = this.loaded;
    if (loaded && loaded.version === version && Date.now() - loaded.loadedAt < MAX_INDEX_AGE_MS) {
      return loaded;
    }
    if (!this.loading) {
      this.loading = this.load(version).finally(() => (this.loading = null));
    }
    const fresh = await this.loading;
    // A load begun for an older version may still be the one awaited; it is at most one change behind.
    return fresh.version === version ? fresh : this.load(version);
  }

  private async load(version: string): Promise<LoadedIndex> {
    const started = performance.now();
    const enabled = await this.subscriptions.enabledWithSecrets();
    const index = new SubscriptionIndex(
      enabled.map((subscription) => ({
        id: subscription.id,
        eventTypes: subscription.eventTypes,
        sourceIds: subscription.sourceIds,
        matchesContent: subscription.filter ? this.compileFilter(subscription) : undefined,
        value: subscription,
      })),
    );
    const byId = new Map(enabled.map((subscription) => [subscription.id, subscription]));
    this.loaded = { version, loadedAt: Date.now(), index, byId };
    this.logger.debug(
      `indexed ${index.size} subscriptions (version ${version}) in ${Math.round(performance.now() - started)} ms`,
    );
    return this.loaded;
  }

  /** Filters are validated on write; one that still fails to compile matches nothing, not everything. */
  private compileFilter(subscription: SubscriptionEntity): (event: unknown) => boolean {
    try {
      return compileContentFilter(subscription.filter!);
    } catch (error) {
      this.logger.error(`subscription ${subscription.id} has an unusable filter: ${String(error)}`);
      return () => false;
    }
  }

  /**
   * The version in Redis. Callers in the same event-loop turn share one GET, sent once the turn
   * is over, so after each of them asked: as fresh for every one as a GET of its own.
   */
  private readVersion(): Promise<string> {
    this.versionRead ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      this.versionRead = null;
      return (await this.redis.client.get(this.versionKey())) ?? '0';
    });
    return this.versionRead;
  }

  private versionKey(): string {
    return this.redis.key('subscriptions', 'version');
  }
}
