import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, LessThan, Repository } from 'typeorm';
import { SubscriptionEntity } from './subscription.entity';

/** The counts a dead delivery leaves on its subscription. */
export interface DeadStreak {
  consecutiveDead: number;
  /** The subscription's own threshold; null: the default. */
  disableAfterDead: number | null;
}

/**
 * The statement that resets the run of dead deliveries of the subscriptions whose ids are in
 * the text[] parameter `idsParameter`. The delivery worker records a batch of attempts in one
 * statement, this one included as a step of it (a round trip saved per batch); the ids must
 * come sorted, so rows are locked in id order.
 */
export function resetDeadStreaksStatement(idsParameter: string): string {
  return `UPDATE subscriptions SET consecutive_dead = 0
          WHERE id = ANY(${idsParameter}::text[]) AND consecutive_dead <> 0`;
}

/**
 * Every statement on the subscriptions table. Callers that change a row tell the other
 * processes afterwards (SubscriptionSnapshot.invalidate), once it is committed.
 */
@Injectable()
export class SubscriptionsRepository {
  constructor(
    @InjectRepository(SubscriptionEntity)
    private readonly subscriptions: Repository<SubscriptionEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Without its secrets; through `manager` inside a transaction. */
  findById(id: string, manager?: EntityManager): Promise<SubscriptionEntity | null> {
    return (manager?.getRepository(SubscriptionEntity) ?? this.subscriptions).findOneBy({ id });
  }

  /** Without their secrets; the ids not found are left out. */
  findByIds(ids: string[]): Promise<SubscriptionEntity[]> {
    return this.subscriptions.findBy({ id: In(ids) });
  }

  findWithSecrets(id: string): Promise<SubscriptionEntity | null> {
    return this.selectWithSecrets().where('subscription.id = :id', { id }).getOne();
  }

  enabledWithSecrets(): Promise<SubscriptionEntity[]> {
    return this.selectWithSecrets().where('subscription.enabled').getMany();
  }

  /** Those the routes file declared, with their current secret, in id order. */
  listManaged(): Promise<SubscriptionEntity[]> {
    return this.subscriptions
      .createQueryBuilder('subscription')
      .addSelect('subscription.secret')
      .where('subscription.routesKey IS NOT NULL')
      .orderBy('subscription.id', 'ASC')
      .getMany();
  }

  /** Newest first, one more than the limit (to tell whether a next page exists). */
  page(cursor: string | undefined, limit: number): Promise<SubscriptionEntity[]> {
    return this.subscriptions.find({
      where: cursor ? { id: LessThan(cursor) } : {},
      order: { id: 'DESC' },
      take: limit + 1,
    });
  }

  /** The disabled ones, most recently disabled first. */
  disabled(limit: number): Promise<SubscriptionEntity[]> {
    return this.subscriptions.find({
      where: { enabled: false },
      order: { disabledAt: { direction: 'DESC', nulls: 'LAST' }, id: 'DESC' },
      take: limit,
    });
  }

  insert(columns: Partial<SubscriptionEntity>): Promise<SubscriptionEntity> {
    return this.subscriptions.save(this.subscriptions.create(columns));
  }

  save(subscription: SubscriptionEntity): Promise<SubscriptionEntity> {
    return this.subscriptions.save(subscription);
  }

  /** False: there was no such subscription. Its deliveries go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    const result = await this.subscriptions.delete({ id });
    return Boolean(result.affected);
  }

  async setSecrets(
    id: string,
    secrets: Pick<SubscriptionEntity, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>,
  ): Promise<void> {
    await this.subscriptions.update({ id }, secrets);
  }

  /**
   * Adds a dead delivery to the enabled subscription's run of them and, in the same transaction,
   * disables it when `disableReason` gives a reason for the new count. Returns the reason it was
   * disabled for, or null (not disabled, or disabled already).
   */
  countDeadDelivery(
    id: string,
    disableReason: (streak: DeadStreak) => string | null,
  ): Promise<string | null> {
    return this.dataSource.transaction(async (manager) => {
      const [rows]: [{ consecutive_dead: number; disable_after_dead: number | null }[], number] =
        await manager.query(
          `UPDATE subscriptions SET consecutive_dead = consecutive_dead + 1
            WHERE id = $1 AND enabled RETURNING consecutive_dead, disable_after_dead`,
          [id],
        );
      const counted = rows[0];
      if (!counted) return null;
      const reason = disableReason({
        consecutiveDead: counted.consecutive_dead,
        disableAfterDead: counted.disable_after_dead,
      });
      return reason && (await this.disable(id, reason, manager)) ? reason : null;
    });
  }

  /** Disables an enabled subscription for `reason`; false when it was not enabled. */
  async disable(id: string, reason: string, manager?: EntityManager): Promise<boolean> {
    const [rows]: [unknown[], number] = await (manager ?? this.dataSource.manager).query(
      `UPDATE subscriptions SET enabled = false, disabled_reason = $2, disabled_at = now(), updated_at = now()
        WHERE id = $1 AND enabled RETURNING id`,
      [id, reason],
    );
    return rows.length > 0;
  }

  private selectWithSecrets() {
    return this.subscriptions
      .createQueryBuilder('subscription')
      .addSelect(['subscription.secret', 'subscription.previousSecret']);
  }
}
