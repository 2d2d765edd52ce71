import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiAdminAuth, ApiErrorResponse, ApiPageResponse } from '../common/openapi';
import { ERROR_EXAMPLES, EXAMPLE_IDS, EXAMPLE_TIMESTAMP } from '../common/openapi-examples';
import { Page, PageQuery } from '../common/pagination';
import { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { RotateSecretDto } from './dto/subscription-actions.dto';
import { SubscriptionResponse } from './dto/subscription.response';
import { UpdateSubscriptionDto } from './dto/update-subscription.dto';
import { SubscriptionsService } from './subscriptions.service';

export const InvalidSubscription = ApiErrorResponse(400, 'Invalid fields, each named', {
  statusCode: 400,
  error: 'validation_failed',
  message: 'Invalid fields: url, filter',
  details: [
    { field: 'url', problems: ['url must be an http(s) URL'] },
    { field: 'filter', problems: ['filter uses $where, which is not allowed'] },
  ],
});
export const SubscriptionNotFound = ApiErrorResponse(404, 'No subscription with this id', {
  ...ERROR_EXAMPLES.notFound,
  message: `Subscription ${EXAMPLE_IDS.subscription} not found`,
});

const SUBSCRIPTION_EXAMPLE: SubscriptionResponse = {
  id: EXAMPLE_IDS.subscription,
  name: 'Pipedrive notes',
  url: 'https://crm.example.com/hooks/chat',
  eventTypes: ['message.created', 'conversation.ended'],
  sourceIds: null,
  filter: { 'message.direction': 'inbound' },
  transform: null,
  payloadFormat: 'canonical',
  headers: { Authorization: '…Xk2q' },
  retryPolicy: { maxAttempts: 5, schedule: [5, 60, 600, 3600], custom: true },
  timeoutMs: 15000,
  rateLimit: { max: 5, perSeconds: 1 },
  disableAfterDeadDeliveries: 10,
  consecutiveDeadDeliveries: 0,
  ordering: 'conversation',
  onDead: 'release',
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  previousSecretExpiresAt: null,
  createdAt: EXAMPLE_TIMESTAMP,
  updatedAt: EXAMPLE_TIMESTAMP,
  managed: null,
};

const CREATE_EXAMPLE = {
  name: 'Pipedrive notes',
  url: 'https://crm.example.com/hooks/chat',
  eventTypes: ['message.created', 'conversation.ended'],
  filter: { 'message.direction': 'inbound' },
  retryPolicy: { maxAttempts: 5, schedule: [5, 60, 600, 3600] },
  rateLimit: { max: 5, perSeconds: 1 },
};

@ApiTags('subscriptions')
@ApiAdminAuth()
@Controller('api/subscriptions')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a subscription; its signing secret is shown only now' })
  @ApiBody({
    type: CreateSubscriptionDto,
    examples: {
      canonical: { summary: 'Canonical events, filtered', value: CREATE_EXAMPLE },
      sheets: {
        summary: 'A Google Sheets row per message (JSONata transform)',
        value: {
          name: 'Sheets log',
          url: 'https://script.google.com/macros/s/AKfycb.../exec',
          eventTypes: ['message.created'],
          transform: '{ "date": occurredAt, "name": contact.name, "text": message.text }',
        },
      },
    },
  })
  @ApiCreatedResponse({ type: SubscriptionResponse })
  @InvalidSubscription
  create(@Body() dto: CreateSubscriptionDto): Promise<SubscriptionResponse> {
    return this.subscriptions.create(dto);
  }

  @Get()
  @ApiOperation({
    summary: 'List subscriptions, newest first',
    description: 'Header values and URL credentials masked; never the signing secret.',
  })
  @ApiPageResponse(SubscriptionResponse, {
    example: { data: [SUBSCRIPTION_EXAMPLE], nextCursor: null },
  })
  @ApiErrorResponse(400, 'A bad query parameter', ERROR_EXAMPLES.validationFailed)
  list(@Query() query: PageQuery): Promise<Page<SubscriptionResponse>> {
    return this.subscriptions.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a subscription (its secret is never shown here)' })
  @ApiOkResponse({ type: SubscriptionResponse })
  @SubscriptionNotFound
  get(@Param('id') id: string): Promise<SubscriptionResponse> {
    return this.subscriptions.get(id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change a subscription; null clears a field. Enabling re-drives nothing by itself',
  })
  @ApiBody({
    type: UpdateSubscriptionDto,
    examples: {
      reenable: { summary: 'Enable again after the router disabled it', value: { enabled: true } },
      slower: {
        summary: 'Slow down for a rate-limited CRM',
        value: { rateLimit: { max: 2, perSeconds: 1 } },
      },
      clearFilter: { summary: 'Remove the filter', value: { filter: null } },
    },
  })
  @ApiOkResponse({ type: SubscriptionResponse })
  @InvalidSubscription
  @SubscriptionNotFound
  update(
    @Param('id') id: string,
    @Body() dto: UpdateSubscriptionDto,
  ): Promise<SubscriptionResponse> {
    return this.subscriptions.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a subscription and its deliveries' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @SubscriptionNotFound
  async remove(@Param('id') id: string): Promise<void> {
    await this.subscriptions.remove(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the signing secret; the old one keeps signing beside it for the grace period',
  })
  @ApiBody({
    type: RotateSecretDto,
    required: false,
    examples: { default: { value: { graceSeconds: 86400 } } },
  })
  @ApiOkResponse({ type: SubscriptionResponse })
  @InvalidSubscription
  @SubscriptionNotFound
  rotateSecret(
    @Param('id') id: string,
    @Body() dto: RotateSecretDto,
  ): Promise<SubscriptionResponse> {
    return this.subscriptions.rotateSecret(id, dto ?? {});
  }
}
