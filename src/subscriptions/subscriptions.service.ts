import { Injectable } from '@nestjs/common';
import { AppError, notFound } from '../common/app-error';
import { newId } from '../common/ids';
import { DEFAULT_PAGE_SIZE, Page, PageQuery, toPage } from '../common/pagination';
import { newSigningSecret } from '../common/secrets';
import { Settings } from '../config/settings';
import { checkTarget } from '../outbound/target-guard';
import { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { RotateSecretDto } from './dto/subscription-actions.dto';
import { SubscriptionResponse, toSubscriptionResponse } from './dto/subscription.response';
import { UpdateSubscriptionDto } from './dto/update-subscription.dto';
import { unmaskHeaders, unmaskUrl } from './subscription-credentials';
import { SubscriptionSnapshot } from './subscription-snapshot';
import { SubscriptionsRepository } from './subscriptions.repository';
import { PayloadFormat, SubscriptionEntity } from './subscription.entity';

@Injectable()
export class SubscriptionsService {
  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly snapshot: SubscriptionSnapshot,
    private readonly settings: Settings,
  ) {}

  /** `routesKey`: the subscription's key in the routes file, when routes:apply creates it. */
  async create(
    dto: CreateSubscriptionDto,
    routesKey: string | null = null,
  ): Promise<SubscriptionResponse> {
    const { url = dto.url, headers = {} } = resolveCredentials(dto, null);
    await this.assertCreatable({ ...dto, url });
    const secret = dto.secret ?? newSigningSecret();
    const saved = await this.subscriptions.insert({
      id: newId('sub'),
      ...subscriptionColumns(dto),
      url,
      headers,
      secret,
      routesKey,
    });
    await this.snapshot.invalidate();
    return toSubscriptionResponse(saved, this.settings, { secret, credentials: true });
  }

  /** What a create refuses beyond the DTO's own rules: a refused target, a format without its transform. */
  async assertCreatable(dto: CreateSubscriptionDto): Promise<void> {
    await this.assertAllowedTarget(dto.url);
    resolvePayloadFormat(dto.payloadFormat, dto.transform ?? null);
  }

  /** The subscriptions the routes file declared, with their secrets, to compare with it. */
  listManaged(): Promise<SubscriptionEntity[]> {
    return this.subscriptions.listManaged();
  }

  /** One page, newest first. */
  async list(query: PageQuery): Promise<Page<SubscriptionResponse>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    return toPage(await this.subscriptions.page(query.cursor, limit), limit, (subscription) =>
      toSubscriptionResponse(subscription, this.settings),
    );
  }

  async get(id: string): Promise<SubscriptionResponse> {
    return toSubscriptionResponse(await this.find(id), this.settings);
  }

  /**
   * Changes what is given; null clears. Enabling a subscription the router disabled clears the
   * reason and its count of dead deliveries, and re-drives nothing: that is
   * `POST /api/deliveries/retry`'s job, when asked.
   */
  async update(id: string, dto: UpdateSubscriptionDto): Promise<SubscriptionResponse> {
    const cleared = REQUIRED_FIELDS.filter((field) => dto[field] === null);
    if (cleared.length > 0) {
      throw new AppError('validation_failed', `Invalid fields: ${cleared.join(', ')}`, [
        ...cleared.map((field) => ({ field, problems: [`${field} cannot be null`] })),
      ]);
    }
    const subscription = await this.find(id);
    const { url, headers } = resolveCredentials(dto, subscription);
    if (url !== undefined) await this.assertAllowedTarget(url);
    const transform = dto.transform !== undefined ? dto.transform : subscription.transform;
    const changes: Partial<SubscriptionEntity> = {
      ...(dto.name !== undefined && { name: dto.name }),
      ...(url !== undefined && { url }),
      ...(dto.eventTypes !== undefined && { eventTypes: [...new Set(dto.eventTypes)] }),
      ...(dto.sourceIds !== undefined && {
        sourceIds: dto.sourceIds?.length ? [...new Set(dto.sourceIds)] : null,
      }),
      ...(headers !== undefined && { headers }),
      ...(dto.filter !== undefined && { filter: dto.filter }),
      ...(dto.transform !== undefined && { transform: dto.transform }),
      ...(dto.retryPolicy !== undefined && {
        maxAttempts: dto.retryPolicy?.maxAttempts ?? null,
        retrySchedule: dto.retryPolicy?.schedule ?? null,
      }),
      ...(dto.timeoutMs !== undefined && { timeoutMs: dto.timeoutMs }),
      ...(dto.rateLimit !== undefined && {
        rateLimitMax: dto.rateLimit?.max ?? null,
        rateLimitPerSeconds: dto.rateLimit?.perSeconds ?? null,
      }),
      ...(dto.disableAfterDeadDeliveries !== undefined && {
        disableAfterDead: dto.disableAfterDeadDeliveries,
      }),
      ...(dto.ordering !== undefined && { ordering: dto.ordering }),
      ...(dto.onDead !== undefined && { onDead: dto.onDead }),
    };
    if (dto.payloadFormat !== undefined || dto.transform !== undefined) {
      changes.payloadFormat =
        dto.payloadFormat !== undefined
          ? resolvePayloadFormat(dto.payloadFormat, transform)
          : transform
            ? 'transformed'
            : subscription.payloadFormat === 'transformed'
              ? 'canonical'
              : subscription.payloadFormat;
    }
    if (dto.enabled === true && !subscription.enabled) {
      Object.assign(changes, {
        enabled: true,
        disabledReason: null,
        disabledAt: null,
        consecutiveDead: 0,
      });
    } else if (dto.enabled === false && subscription.enabled) {
      Object.assign(changes, { enabled: false, disabledReason: null, disabledAt: new Date() });
    }
    Object.assign(subscription, changes);
    const saved = await this.subscriptions.save(subscription);
    await this.snapshot.invalidate();
    return toSubscriptionResponse(saved, this.settings);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.subscriptions.delete(id))) throw notFound(`Subscription ${id}`);
    await this.snapshot.invalidate();
  }

  /**
   * A new signing secret, shown once. The old one keeps signing beside it for the grace period,
   * so receivers verifying either secret keep accepting deliveries while they switch.
   */
  async rotateSecret(id: string, dto: RotateSecretDto): Promise<SubscriptionResponse> {
    const subscription = await this.findWithSecrets(id);
    const graceSeconds = dto.graceSeconds ?? this.settings.SUBSCRIPTION_SECRET_GRACE_SECONDS;
    const secret = dto.secret ?? newSigningSecret();
    if (secret === subscription.secret) {
      throw new AppError('validation_failed', 'the new secret must differ from the current one', [
        { field: 'secret', problems: ['secret must differ from the current secret'] },
      ]);
    }
    await this.subscriptions.setSecrets(id, {
      secret,
      previousSecret: graceSeconds > 0 ? subscription.secret : null,
      previousSecretExpiresAt: graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null,
    });
    // Delivery workers sign with the secrets of the snapshot.
    await this.snapshot.invalidate();
    return toSubscriptionResponse(await this.find(id), this.settings, { secret });
  }

  private async find(id: string): Promise<SubscriptionEntity> {
    const subscription = await this.subscriptions.findById(id);
    if (!subscription) throw notFound(`Subscription ${id}`);
    return subscription;
  }

  private async findWithSecrets(id: string): Promise<SubscriptionEntity> {
    const subscription = await this.snapshot.withSecrets(id);
    if (!subscription) throw notFound(`Subscription ${id}`);
    return subscription;
  }

  private async assertAllowedTarget(url: string): Promise<void> {
    const target = await checkTarget(url, this.settings.ALLOW_PRIVATE_TARGETS);
    if (!target.ok) {
      throw new AppError('validation_failed', target.reason, [
        { field: 'url', problems: [target.reason] },
      ]);
    }
  }
}

/** The columns a create DTO sets (all but the id and secret). */
export function subscriptionColumns(dto: CreateSubscriptionDto) {
  return {
    name: dto.name,
    url: dto.url,
    eventTypes: [...new Set(dto.eventTypes)],
    sourceIds: dto.sourceIds?.length ? [...new Set(dto.sourceIds)] : null,
    headers: dto.headers ?? {},
    filter: dto.filter ?? null,
    transform: dto.transform ?? null,
    payloadFormat: resolvePayloadFormat(dto.payloadFormat, dto.transform ?? null),
    maxAttempts: dto.retryPolicy?.maxAttempts ?? null,
    retrySchedule: dto.retryPolicy?.schedule ?? null,
    timeoutMs: dto.timeoutMs ?? null,
    rateLimitMax: dto.rateLimit?.max ?? null,
    rateLimitPerSeconds: dto.rateLimit?.perSeconds ?? null,
    disableAfterDead: dto.disableAfterDeadDeliveries ?? null,
    ordering: dto.ordering ?? 'none',
    onDead: dto.onDead ?? 'release',
    enabled: dto.enabled ?? true,
  } satisfies Partial<SubscriptionEntity>;
}

/** Fields PATCH may change but not clear: null is refused rather than stored. */
const REQUIRED_FIELDS = [
  'name',
  'url',
  'eventTypes',
  'headers',
  'payloadFormat',
  'ordering',
  'onDead',
  'enabled',
] as const satisfies readonly (keyof UpdateSubscriptionDto)[];

/**
 * The url and headers to store: values sent back masked (as reads show them) keep the current
 * ones; a masked value with nothing to keep is refused, so it is never stored as a credential.
 */
function resolveCredentials(
  dto: { url?: string; headers?: Record<string, string> },
  current: SubscriptionEntity | null,
): { url?: string; headers?: Record<string, string> } {
  const url = dto.url === undefined ? undefined : unmaskUrl(dto.url, current?.url ?? null);
  const headers =
    dto.headers === undefined ? undefined : unmaskHeaders(dto.headers, current?.headers ?? {});
  const problems = [
    ...(url?.problem ? [{ field: 'url', problems: [url.problem] }] : []),
    ...(headers?.problems.length ? [{ field: 'headers', problems: headers.problems }] : []),
  ];
  if (problems.length > 0) {
    const fields = problems.map((problem) => problem.field).join(', ');
    throw new AppError('validation_failed', `Invalid fields: ${fields}`, problems);
  }
  return { url: url?.url, headers: headers?.headers };
}

/** A transform implies the transformed format; the transformed format needs a transform. */
function resolvePayloadFormat(
  requested: PayloadFormat | undefined,
  transform: string | null,
): PayloadFormat {
  const format = requested ?? (transform ? 'transformed' : 'canonical');
  if (format === 'transformed' && !transform) {
    throw new AppError('validation_failed', 'payloadFormat "transformed" needs a transform', [
      {
        field: 'transform',
        problems: ['transform is required when payloadFormat is "transformed"'],
      },
    ]);
  }
  return format;
}
