import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { SubscriptionResponse } from './dto/subscription.response';
import { SubscriptionsService } from './subscriptions.service';

@Controller('api/subscriptions')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  create(@Body() dto: CreateSubscriptionDto): Promise<SubscriptionResponse> {
    return this.subscriptions.create(dto);
  }

  @Get()
  async list(): Promise<{ data: SubscriptionResponse[]; nextCursor: null }> {
    return { data: await this.subscriptions.list(), nextCursor: null };
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<SubscriptionResponse> {
    return this.subscriptions.get(id);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.subscriptions.remove(id);
  }
}
