import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError, notFound } from '../common/app-error';
import { newId } from '../common/ids';
import { newSigningSecret } from '../common/secrets';
import { Settings } from '../config/settings';
import { checkTarget } from '../delivery/target-guard';
import { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { SubscriptionResponse, toSubscriptionResponse } from './dto/subscription.response';
import { SubscriptionEntity } from './subscription.entity';

@Injectable()
export class SubscriptionsService {
  constructor(
    @InjectRepository(SubscriptionEntity)
    private readonly subscriptions: Repository<SubscriptionEntity>,
    private readonly settings: Settings,
  ) {}

  async create(dto: CreateSubscriptionDto): Promise<SubscriptionResponse> {
    const target = await checkTarget(dto.url, this.settings.ALLOW_PRIVATE_TARGETS);
    if (!target.ok) {
      throw new AppError('validation_failed', target.reason, [
        { field: 'url', problems: [target.reason] },
      ]);
    }
    const secret = dto.secret ?? newSigningSecret();
    const saved = await this.subscriptions.save(
      this.subscriptions.create({
        id: newId('sub'),
        name: dto.name,
        url: dto.url,
        eventTypes: [...new Set(dto.eventTypes)],
        sourceIds: dto.sourceIds?.length ? [...new Set(dto.sourceIds)] : null,
        secret,
        headers: dto.headers ?? {},
        maxAttempts: dto.retryPolicy?.maxAttempts ?? null,
        timeoutMs: dto.timeoutMs ?? null,
        enabled: dto.enabled ?? true,
      }),
    );
    return toSubscriptionResponse(saved, secret);
  }

  async list(): Promise<SubscriptionResponse[]> {
    const all = await this.subscriptions.find({ order: { id: 'DESC' } });
    return all.map((subscription) => toSubscriptionResponse(subscription));
  }

  async get(id: string): Promise<SubscriptionResponse> {
    const subscription = await this.subscriptions.findOneBy({ id });
    if (!subscription) throw notFound(`Subscription ${id}`);
    return toSubscriptionResponse(subscription);
  }

  async remove(id: string): Promise<void> {
    const result = await this.subscriptions.delete({ id });
    if (!result.affected) throw notFound(`Subscription ${id}`);
  }
}
