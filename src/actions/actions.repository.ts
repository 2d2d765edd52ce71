import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, LessThan } from 'typeorm';
import { ActionAttemptEntity, ActionEntity, ActionState } from './action.entity';

export type NewAction = Omit<
  ActionEntity,
  | 'status'
  | 'nextCall'
  | 'attempts'
  | 'error'
  | 'outcomeEventId'
  | 'createdAt'
  | 'updatedAt'
  | 'completedAt'
>;

export interface ActionListQuery {
  conversationKey?: string;
  /** Only actions on these sources (a scoped key's); absent: all. */
  sourceIds?: string[];
  cursor?: string;
  take: number;
}

/** Every statement on the actions and action_attempts tables. */
@Injectable()
export class ActionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get actions() {
    return this.dataSource.getRepository(ActionEntity);
  }

  private get attempts() {
    return this.dataSource.getRepository(ActionAttemptEntity);
  }

  /**
   * Stores a new action; with an idempotency key already used by the same caller, stores
   * nothing and answers null.
   */
  async insert(action: NewAction): Promise<ActionEntity | null> {
    const rows = (await this.dataSource.query(
      `INSERT INTO actions (id, conversation_key, conversation_id, source_id, source_kind, kind,
                            request, target, status, requested_by, idempotency_key, request_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10, $11)
       ON CONFLICT (requested_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING created_at, updated_at`,
      [
        action.id,
        action.conversationKey,
        action.conversationId,
        action.sourceId,
        action.sourceKind,
        action.kind,
        JSON.stringify(action.request),
        JSON.stringify(action.target),
        action.requestedBy,
        action.idempotencyKey,
        action.requestHash,
      ],
    )) as { created_at: Date; updated_at: Date }[];
    if (rows.length === 0) return null;
    // The row as stored, without reading it back: the rest is what was written.
    return Object.assign(new ActionEntity(), {
      ...action,
      status: 'queued',
      nextCall: 0,
      attempts: 0,
      error: null,
      outcomeEventId: null,
      createdAt: rows[0].created_at,
      updatedAt: rows[0].updated_at,
      completedAt: null,
    } satisfies ActionEntity);
  }

  /**
   * The action with the id of its conversation's oldest queued action (the only one that may be
   * sent now), in one statement.
   */
  async findWithTurn(
    id: string,
  ): Promise<{ action: ActionEntity; firstQueued: string | null } | null> {
    const { entities, raw } = await this.actions
      .createQueryBuilder('action')
      .addSelect(
        `(SELECT q.id FROM actions q WHERE q.conversation_key = action.conversation_key
            AND q.status = 'queued' ORDER BY q.id LIMIT 1)`,
        'first_queued',
      )
      .where('action.id = :id', { id })
      .getRawAndEntities<{ first_queued: string | null }>();
    if (entities.length === 0) return null;
    return { action: entities[0], firstQueued: raw[0].first_queued };
  }

  findById(id: string): Promise<ActionEntity | null> {
    return this.actions.findOneBy({ id });
  }

  /** The action a caller made with this idempotency key, with the hash of its request. */
  findByIdempotencyKey(requestedBy: string, idempotencyKey: string): Promise<ActionEntity | null> {
    return this.actions
      .createQueryBuilder('action')
      .addSelect('action.requestHash')
      .where({ requestedBy, idempotencyKey })
      .getOne();
  }

  async delete(id: string): Promise<void> {
    await this.actions.delete({ id });
  }

  list(query: ActionListQuery): Promise<ActionEntity[]> {
    return this.actions.find({
      where: {
        ...(query.conversationKey ? { conversationKey: query.conversationKey } : {}),
        ...(query.sourceIds ? { sourceId: In(query.sourceIds) } : {}),
        ...(query.cursor ? { id: LessThan(query.cursor) } : {}),
      },
      order: { id: 'DESC' },
      take: query.take,
    });
  }

  attemptsOf(actionId: string): Promise<ActionAttemptEntity[]> {
    return this.attempts.find({ where: { actionId }, order: { attemptNumber: 'ASC' } });
  }

  /** The oldest action of the conversation still to send: the only one that may be sent now. */
  async firstQueued(conversationKey: string): Promise<string | null> {
    const rows = (await this.dataSource.query(
      `SELECT id FROM actions WHERE conversation_key = $1 AND status = 'queued'
        ORDER BY id LIMIT 1`,
      [conversationKey],
    )) as { id: string }[];
    return rows[0]?.id ?? null;
  }

  /** Queued actions untouched for `olderThanMs`, by id after `after`: those a lost job may strand. */
  async untouchedQueued(after: string, olderThanMs: number, take: number): Promise<string[]> {
    const rows = (await this.dataSource.query(
      `SELECT id FROM actions
        WHERE status = 'queued' AND id > $1
          AND updated_at < now() - $2 * interval '1 millisecond'
        ORDER BY id LIMIT $3`,
      [after, olderThanMs, take],
    )) as { id: string }[];
    return rows.map((row) => row.id);
  }

  /**
   * Of these actions, those still queued and untouched for `olderThanMs`, touched now in one
   * conditional update: sweepers running at once each claim an action at most once between them.
   */
  async claimUntouched(ids: string[], olderThanMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const [rows] = (await this.dataSource.query(
      `UPDATE actions SET updated_at = now()
        WHERE id = ANY($1) AND status = 'queued'
          AND updated_at < now() - $2 * interval '1 millisecond'
        RETURNING id`,
      [ids, olderThanMs],
    )) as [{ id: string }[], number];
    return rows.map((row) => row.id).sort();
  }

  /**
   * Records one call's attempt and where the action stands after it, in one statement (both or
   * neither); answers the action as it now is.
   */
  async recordAttempt(
    action: ActionEntity,
    attempt: Omit<ActionAttemptEntity, 'id' | 'actionId'>,
    after: { nextCall: number; status: ActionState; error: string | null },
  ): Promise<ActionEntity> {
    const now = new Date();
    const updated: ActionEntity = {
      ...action,
      attempts: attempt.attemptNumber,
      nextCall: after.nextCall,
      status: after.status,
      error: after.error,
      updatedAt: now,
      completedAt: after.status === 'queued' ? action.completedAt : now,
    };
    await this.dataSource.query(
      `WITH attempt AS (
         INSERT INTO action_attempts (action_id, attempt_number, call_index, call, url, status_code,
                                      error, response_excerpt, duration_ms, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       )
       UPDATE actions SET attempts = $2, next_call = $11, status = $12, error = $13,
                          updated_at = $14, completed_at = $15
        WHERE id = $1`,
      [
        action.id,
        attempt.attemptNumber,
        attempt.callIndex,
        attempt.call,
        attempt.url,
        attempt.statusCode,
        attempt.error,
        attempt.responseExcerpt,
        attempt.durationMs,
        attempt.startedAt,
        updated.nextCall,
        updated.status,
        updated.error,
        updated.updatedAt,
        updated.completedAt,
      ],
    );
    return Object.assign(new ActionEntity(), updated);
  }

  /** Ends an action without a call (its source is gone, its kind can no longer do it). */
  async fail(id: string, error: string): Promise<void> {
    await this.actions.update(
      { id, status: 'queued' },
      { status: 'failed', error, updatedAt: new Date(), completedAt: new Date() },
    );
  }
}
