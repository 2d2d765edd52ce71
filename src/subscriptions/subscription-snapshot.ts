import { Injectable, Logger } from '@nestjs/common';
import { SharedRedis } from '../queues/shared-redis';
import { SubscriptionEntity } from './subscription.entity';
import { SubscriptionsRepository } from './subscriptions.repository';

/** Even if a change notice were lost (Redis flushed), no process keeps a stale snapshot longer. */
const MAX_SNAPSHOT_AGE_MS = 60_000;

/** The enabled subscriptions as of one version; replaced, never changed, when the version moves. */
export interface Snapshot {
  version: string;
  loadedAt: number;
  /** With their secrets. */
  enabled: readonly SubscriptionEntity[];
  byId: ReadonlyMap<string, SubscriptionEntity>;
}

/**
 * The one in-memory copy of the enabled subscriptions, which matching (routing/) and sending
 * (delivery/) both read. Every change bumps a version in Redis; each read checks it (one GET,
 * shared by the reads of one event-loop turn) and loads again when it moved, so a subscription
 * created, changed or disabled in any process applies to the next event everywhere.
 */
@Injectable()
export class SubscriptionSnapshot {
  private readonly logger = new Logger(SubscriptionSnapshot.name);
  private loaded: Snapshot | null = null;
  private loading: Promise<Snapshot> | null = null;
  private versionRead: Promise<string> | null = null;

  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly redis: SharedRedis,
  ) {}

  /** The snapshot of the current version: the same object for as long as the version holds. */
  async current(): Promise<Snapshot> {
    const version = await this.readVersion();
    const loaded = this.loaded;
    if (
      loaded &&
      loaded.version === version &&
      Date.now() - loaded.loadedAt < MAX_SNAPSHOT_AGE_MS
    ) {
      return loaded;
    }
    if (!this.loading) {
      this.loading = this.load(version).finally(() => (this.loading = null));
    }
    const fresh = await this.loading;
    // A load begun for an older version may still be the one awaited; it is at most one change behind.
    return fresh.version === version ? fresh : this.load(version);
  }

  /**
   * A subscription with its secrets: from the snapshot when it is enabled (as of the current
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

  private async load(version: string): Promise<Snapshot> {
    const started = performance.now();
    const enabled = await this.subscriptions.enabledWithSecrets();
    this.loaded = {
      version,
      loadedAt: Date.now(),
      enabled,
      byId: new Map(enabled.map((subscription) => [subscription.id, subscription])),
    };
    this.logger.debug(
      `loaded ${enabled.length} subscriptions (version ${version}) in ${Math.round(performance.now() - started)} ms`,
    );
    return this.loaded;
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
