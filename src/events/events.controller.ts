import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { ApiAdminAuth, ApiErrorResponse, ApiPageResponse } from '../common/openapi';
import { ERROR_EXAMPLES, EXAMPLE_IDS, EXAMPLE_TIMESTAMP } from '../common/openapi-examples';
import { IsInstant, PageQuery } from '../common/pagination';
import { DeliveryView } from '../delivery/dto/delivery.response';
import { EventDetail, EventSummary } from './dto/event.response';
import { EventsService } from './events.service';

export class EventListQueryDto extends PageQuery {
  @ApiPropertyOptional({ example: 'message.created' })
  @IsOptional()
  @IsString()
  type?: string;

  @ApiPropertyOptional({ example: EXAMPLE_IDS.source })
  @IsOptional()
  @IsString()
  sourceId?: string;

  @ApiPropertyOptional({ example: `chatwoot:${EXAMPLE_IDS.source}:42` })
  @IsOptional()
  @IsString()
  conversationKey?: string;

  @ApiPropertyOptional({ enum: ['routed', 'unprocessable'] })
  @IsOptional()
  @IsIn(['routed', 'unprocessable'])
  status?: string;

  @ApiPropertyOptional({
    description: 'Received at or after (ISO 8601)',
    example: EXAMPLE_TIMESTAMP,
  })
  @IsOptional()
  @IsInstant()
  since?: Date;

  @ApiPropertyOptional({ description: 'Received before (ISO 8601)', example: EXAMPLE_TIMESTAMP })
  @IsOptional()
  @IsInstant()
  until?: Date;

  @ApiPropertyOptional({
    description:
      'Text the raw payload contains (case-insensitive; scans the events, so narrow it with since)',
    example: 'pedido',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  text?: string;
}

export class ReplayEventDto {
  @ApiPropertyOptional({
    description:
      'Only these subscriptions; absent: every enabled subscription the event matches now',
    example: [EXAMPLE_IDS.subscription],
    type: [String],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  subscriptionIds?: string[];
}

const NotFound = ApiErrorResponse(404, 'No event with this id', {
  ...ERROR_EXAMPLES.notFound,
  message: `Event ${EXAMPLE_IDS.event} not found`,
});

@ApiTags('events')
@ApiAdminAuth()
@Controller('api/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiOperation({ summary: 'List received events, newest first, filtered' })
  @ApiPageResponse(EventSummary, {
    example: {
      data: [
        {
          id: EXAMPLE_IDS.event,
          type: 'message.created',
          status: 'routed',
          error: null,
          sourceId: EXAMPLE_IDS.source,
          sourceKind: 'chatwoot',
          sourceEvent: 'message_created',
          conversationKey: `chatwoot:${EXAMPLE_IDS.source}:42`,
          conversationId: 'conv_01JDA2B8N6M4P2Q7R5S3T1V9WX',
          occurredAt: EXAMPLE_TIMESTAMP,
          receivedAt: EXAMPLE_TIMESTAMP,
        },
      ],
      nextCursor: null,
    },
  })
  @ApiErrorResponse(400, 'A bad query parameter', ERROR_EXAMPLES.validationFailed)
  list(@Query() query: EventListQueryDto) {
    return this.events.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'An event: canonical form, the raw payload, and its deliveries' })
  @ApiOkResponse({ type: EventDetail })
  @NotFound
  get(@Param('id') id: string): Promise<EventDetail> {
    return this.events.get(id);
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Deliver an event again as new deliveries (same webhook-id) to all or chosen subscriptions',
  })
  @ApiBody({
    type: ReplayEventDto,
    required: false,
    examples: {
      all: { summary: 'Every matching subscription', value: {} },
      chosen: {
        summary: 'Chosen subscriptions',
        value: { subscriptionIds: [EXAMPLE_IDS.subscription] },
      },
    },
  })
  @ApiAcceptedResponse({ type: [DeliveryView], description: 'The new deliveries, queued' })
  @ApiErrorResponse(400, 'Unknown or disabled subscriptions named', ERROR_EXAMPLES.validationFailed)
  @NotFound
  @ApiErrorResponse(409, 'The event was unprocessable: nothing to deliver', {
    statusCode: 409,
    error: 'conflict',
    message: `Event ${EXAMPLE_IDS.event} could not be normalized (body is not a JSON object); it has nothing to deliver`,
  })
  async replay(
    @Param('id') id: string,
    @Body() dto: ReplayEventDto,
  ): Promise<{ data: DeliveryView[] }> {
    return { data: await this.events.replay(id, dto?.subscriptionIds) };
  }
}
