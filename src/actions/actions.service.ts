import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Principal, principalId } from '../auth/principal';
import { AppError, notFound } from '../common/app-error';
import { newId } from '../common/ids';
import { DEFAULT_PAGE_SIZE, Page, PageQuery, toPage } from '../common/pagination';
import { sha256 } from '../common/secrets';
import { ACTION_QUEUE } from '../queues/queue-names';
import { CanonicalAction } from '../sources/source-actions';
import { SourceRegistry } from '../sources/source-registry';
import { SourcesService } from '../sources/sources.service';
import { ActionEntity } from './action.entity';
import { ActionQueue, queueAction } from './action-jobs';
import { ActionTarget, ActionTargets } from './action-targets';
import { ActionsRepository } from './actions.repository';
import { ActionDetailView, ActionView, toActionView, toAttemptView } from './dto/action.view';

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** What a request made: the action, and whether it was made before (the same Idempotency-Key). */
export interface Taken {
  action: ActionView;
  replayed: boolean;
}

/** The action API: takes an action on a conversation, stores it and queues it for the worker. */
@Injectable()
export class ActionsService {
  constructor(
    private readonly targets: ActionTargets,
    private readonly actions: ActionsRepository,
    private readonly registry: SourceRegistry,
    private readonly sources: SourcesService,
    @InjectQueue(ACTION_QUEUE) private readonly queue: ActionQueue,
  ) {}

  /**
   * `conversation`: a `conv_…` id or a canonical `conversation.key`. Answers once the action is
   * stored and its job queued; with an `idempotencyKey` the caller used before for the same
   * request, answers that action instead (another request under it is refused: 422).
   */
  async take(
    conversation: string,
    action: CanonicalAction,
    principal: Principal,
    idempotencyKey: string | undefined,
  ): Promise<Taken> {
    const requestedBy = principalId(principal);
    const key = checkedIdempotencyKey(idempotencyKey);
    if (key !== null) {
      const earlier = await this.actions.findByIdempotencyKey(requestedBy, key);
      if (earlier) {
        const named = await this.conversationKeyOf(conversation, earlier);
        return { action: sameRequest(earlier, requestHashOf(named, action)), replayed: true };
      }
    }
    const target = await this.targets.find(conversation);
    if (!target) throw notFound(`Conversation ${conversation}`);
    assertAllowed(principal, target.sourceId);
    await this.assertCapable(target, action);
    const requestHash = key === null ? null : requestHashOf(target.conversationKey, action);

    const stored = await this.actions.insert({
      id: newId('act'),
      conversationKey: target.conversationKey,
      conversationId: target.conversationId,
      sourceId: target.sourceId,
      sourceKind: target.sourceKind,
      kind: action.kind,
      request: action,
      target: { externalId: target.externalId, contactExternalId: target.contactExternalId },
      requestedBy,
      idempotencyKey: key,
      requestHash,
    });
    if (!stored) {
      // The same key, from a request running at the same time: it won the insert.
      const earlier = await this.actions.findByIdempotencyKey(requestedBy, key ?? '');
      if (!earlier) throw new AppError('conflict', 'The idempotency key is being used; retry');
      return { action: sameRequest(earlier, requestHash), replayed: true };
    }
    try {
      await queueAction(this.queue, stored.id);
    } catch (error) {
      await this.actions.delete(stored.id).catch(() => undefined);
      throw new AppError(
        'queue_unavailable',
        `The action could not be queued (${(error as Error).message}); nothing was sent, retry later`,
      );
    }
    return { action: toActionView(stored), replayed: false };
  }

  async get(id: string, principal: Principal): Promise<ActionDetailView> {
    const action = await this.actions.findById(id);
    if (!action || !visibleTo(principal, action.sourceId)) throw notFound(`Action ${id}`);
    const attempts = await this.actions.attemptsOf(id);
    return { ...toActionView(action), attempts: attempts.map(toAttemptView) };
  }

  /** Newest first; `conversationId` (a `conv_…` id or a conversation key) narrows to one conversation. */
  async list(
    query: PageQuery & { conversationId?: string },
    principal: Principal,
  ): Promise<Page<ActionView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    let conversationKey: string | undefined;
    if (query.conversationId) {
      const target = await this.targets.find(query.conversationId);
      if (!target) return { data: [], nextCursor: null };
      conversationKey = target.conversationKey;
    }
    const rows = await this.actions.list({
      conversationKey,
      sourceIds:
        principal.kind === 'scoped' && principal.sourceIds.length > 0
          ? principal.sourceIds
          : undefined,
      cursor: query.cursor,
      take: limit + 1,
    });
    return toPage(rows, limit, toActionView);
  }

  /**
   * The conversation a repeated request names, as its canonical key: the earlier action's when
   * it names that one by its `conv_…` id or its key, so both spellings are the same request.
   */
  private async conversationKeyOf(conversation: string, earlier: ActionEntity): Promise<string> {
    if (conversation === earlier.conversationKey || conversation === earlier.conversationId) {
      return earlier.conversationKey;
    }
    return (await this.targets.find(conversation))?.conversationKey ?? conversation;
  }

  /** 409 when the conversation's platform cannot take this action, naming what it can do. */
  private async assertCapable(target: ActionTarget, action: CanonicalAction): Promise<void> {
    const actions = this.registry.get(target.sourceKind)?.actions;
    const capabilities = actions?.capabilities ?? [];
    if (!actions || !capabilities.includes(action.kind)) {
      throw new AppError(
        'conflict',
        `A ${target.sourceKind} conversation cannot take "${action.kind}": ${
          capabilities.length === 0
            ? `the ${target.sourceKind} kind can take no action`
            : `the ${target.sourceKind} kind can take ${capabilities.join(', ')}`
        }`,
        { sourceKind: target.sourceKind, capabilities },
      );
    }
    const source = await this.sources.configured(target.sourceId);
    if (!source) throw notFound(`Source ${target.sourceId}`);
    const refusal = actions.refusal(action, source.settings, {
      externalId: target.externalId,
      contactExternalId: target.contactExternalId,
    });
    if (refusal !== null) {
      throw new AppError(
        'conflict',
        `Cannot ${action.kind} on ${target.conversationKey}: ${refusal}`,
        {
          sourceKind: target.sourceKind,
          capabilities,
        },
      );
    }
  }
}

/** What an Idempotency-Key stands for: this action on this conversation, however it was named. */
function requestHashOf(conversationKey: string, action: CanonicalAction): Buffer {
  return sha256(JSON.stringify([conversationKey, action]));
}

function checkedIdempotencyKey(value: string | undefined): string | null {
  if (value === undefined) return null;
  const key = value.trim();
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new AppError(
      'validation_failed',
      `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
      [{ field: 'Idempotency-Key', problems: ['must be 1 to 255 characters'] }],
    );
  }
  return key;
}

/**
 * The action made earlier under the same key, if this request is the same one; a different
 * request under a used key is a client bug answered 422 (the key is not ours to reassign).
 */
function sameRequest(earlier: ActionEntity, requestHash: Buffer | null): ActionView {
  if (requestHash && earlier.requestHash && !requestHash.equals(earlier.requestHash)) {
    throw new AppError(
      'unprocessable',
      `This Idempotency-Key was used for another request (action ${earlier.id}): use a new key for a new action`,
      { actionId: earlier.id },
    );
  }
  return toActionView(earlier);
}

function visibleTo(principal: Principal, sourceId: string): boolean {
  return (
    principal.kind === 'admin' ||
    principal.sourceIds.length === 0 ||
    principal.sourceIds.includes(sourceId)
  );
}

function assertAllowed(principal: Principal, sourceId: string): void {
  if (!visibleTo(principal, sourceId)) {
    throw new AppError('forbidden', `This key may not act on source ${sourceId}'s conversations`);
  }
}
