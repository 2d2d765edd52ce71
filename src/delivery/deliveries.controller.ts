import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { ApiAdminAuth, ApiErrorResponse, ApiPageResponse } from '../common/openapi';
import { ERROR_EXAMPLES, EXAMPLE_IDS, EXAMPLE_TIMESTAMP } from '../common/openapi-examples';
import { IsInstant, PageQuery } from '../common/pagination';
import { DeliveriesService } from './deliveries.service';
import { DELIVERY_STATUSES, DeliveryStatus } from './delivery.entity';
import { DeliveryView } from './dto/delivery.response';

export class DeliveryListQueryDto extends PageQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES, example: 'dead' })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @ApiPropertyOptional({ example: EXAMPLE_IDS.subscription })
  @IsOptional()
  @IsString()
  subscriptionId?: string;

  @ApiPropertyOptional({ example: EXAMPLE_IDS.event })
  @IsOptional()
  @IsString()
  eventId?: string;
}

export class RedriveDeliveriesDto {
  @ApiProperty({
    enum: ['dead', 'failed', 'pending', 'blocked'],
    description:
      'dead: dead letters; failed: waiting for a retry, sent now instead; pending: only those ' +
      'stranded, whose job is gone (failed for good or removed), not those still queued; ' +
      'blocked: the dead heads parking their conversation (onDead "block"), sent again in ' +
      'their place. A dead delivery of an ordered conversation goes back in at its tail ' +
      '(docs/ordering.md)',
    example: 'dead',
  })
  @IsIn(['dead', 'failed', 'pending', 'blocked'])
  status: 'dead' | 'failed' | 'pending' | 'blocked';

  @ApiPropertyOptional({
    description: 'Only this subscription’s deliveries',
    example: EXAMPLE_IDS.subscription,
  })
  @IsOptional()
  @IsString()
  subscriptionId?: string;

  @ApiPropertyOptional({
    description: 'Only deliveries created at or after',
    example: EXAMPLE_TIMESTAMP,
  })
  @IsOptional()
  @IsInstant()
  since?: Date;
}

class RedriveResult {
  @ApiProperty({ description: 'Deliveries queued again', example: 42 })
  redriven: number;
}

class RedrivePreview {
  @ApiProperty({ description: 'Deliveries the re-drive would queue again now', example: 42 })
  matching: number;
}

const NotFound = ApiErrorResponse(404, 'No delivery with this id', {
  ...ERROR_EXAMPLES.notFound,
  message: `Delivery ${EXAMPLE_IDS.delivery} not found`,
});
const Disabled = {
  statusCode: 409,
  error: 'conflict',
  message: `Subscription ${EXAMPLE_IDS.subscription} is disabled; enable it before retrying its deliveries`,
};

@ApiTags('deliveries')
@ApiAdminAuth()
@Controller('api/deliveries')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get()
  @ApiOperation({ summary: 'List deliveries, newest first; status=dead lists the dead letters' })
  @ApiPageResponse(DeliveryView, {
    example: {
      data: [
        {
          id: EXAMPLE_IDS.delivery,
          eventId: EXAMPLE_IDS.event,
          subscriptionId: EXAMPLE_IDS.subscription,
          status: 'dead',
          attemptCount: 8,
          lastStatusCode: 500,
          lastError: 'HTTP 500',
          nextAttemptAt: null,
          completedAt: EXAMPLE_TIMESTAMP,
          conversationKey: null,
          orderingNote: null,
          createdAt: EXAMPLE_TIMESTAMP,
          updatedAt: EXAMPLE_TIMESTAMP,
        },
      ],
      nextCursor: null,
    },
  })
  @ApiErrorResponse(400, 'A bad query parameter', ERROR_EXAMPLES.validationFailed)
  list(@Query() query: DeliveryListQueryDto) {
    return this.deliveries.list(query);
  }

  @Post('retry')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Bulk re-drive: queue again every dead (or failed, or stranded pending) delivery of enabled subscriptions',
  })
  @ApiBody({
    type: RedriveDeliveriesDto,
    examples: {
      one: {
        summary: 'The dead letters of one subscription',
        value: { status: 'dead', subscriptionId: EXAMPLE_IDS.subscription },
      },
      recent: {
        summary: 'Every dead letter since a time',
        value: { status: 'dead', since: EXAMPLE_TIMESTAMP },
      },
    },
  })
  @ApiAcceptedResponse({ type: RedriveResult })
  @ApiErrorResponse(400, 'Invalid fields', ERROR_EXAMPLES.validationFailed)
  @ApiErrorResponse(404, 'No subscription with this id', {
    ...ERROR_EXAMPLES.notFound,
    message: `Subscription ${EXAMPLE_IDS.subscription} not found`,
  })
  @ApiErrorResponse(409, 'The subscription is disabled', {
    ...Disabled,
    message: `Subscription ${EXAMPLE_IDS.subscription} is disabled; enable it before re-driving its deliveries`,
  })
  redrive(@Body() dto: RedriveDeliveriesDto): Promise<RedriveResult> {
    return this.deliveries.redrive(dto);
  }

  @Post('retry/preview')
  @HttpCode(200)
  @ApiOperation({
    summary: 'How many deliveries a bulk re-drive with this body would queue again (queues none)',
  })
  @ApiBody({
    type: RedriveDeliveriesDto,
    examples: { dead: { summary: 'Every dead letter', value: { status: 'dead' } } },
  })
  @ApiOkResponse({ type: RedrivePreview })
  @ApiErrorResponse(400, 'Invalid fields', ERROR_EXAMPLES.validationFailed)
  @ApiErrorResponse(404, 'No subscription with this id', {
    ...ERROR_EXAMPLES.notFound,
    message: `Subscription ${EXAMPLE_IDS.subscription} not found`,
  })
  @ApiErrorResponse(409, 'The subscription is disabled', {
    ...Disabled,
    message: `Subscription ${EXAMPLE_IDS.subscription} is disabled; enable it before re-driving its deliveries`,
  })
  redrivePreview(@Body() dto: RedriveDeliveriesDto): Promise<RedrivePreview> {
    return this.deliveries.redrivePreview(dto);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A delivery with every attempt' })
  @ApiOkResponse({ type: DeliveryView })
  @NotFound
  get(@Param('id') id: string): Promise<DeliveryView> {
    return this.deliveries.get(id);
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Send one delivery again now, with a fresh attempt budget (a pending one only if its job is gone)',
  })
  @ApiAcceptedResponse({ type: DeliveryView })
  @NotFound
  @ApiErrorResponse(409, 'Already queued, or its subscription is disabled', Disabled, {
    statusCode: 409,
    error: 'conflict',
    message: `Delivery ${EXAMPLE_IDS.delivery} is already queued`,
  })
  retry(@Param('id') id: string): Promise<DeliveryView> {
    return this.deliveries.retry(id);
  }
}
