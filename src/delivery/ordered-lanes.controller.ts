import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { ApiAdminAuth, ApiErrorResponse } from '../common/openapi';
import { ERROR_EXAMPLES, EXAMPLE_IDS } from '../common/openapi-examples';
import { LaneView, OrderedLanes } from './ordered-lanes';

const LANE_STATES = ['retrying', 'blocked', 'sending'] as const;

class LaneListQueryDto {
  @ApiPropertyOptional({
    enum: LANE_STATES,
    description:
      'retrying: the head failed and waits for its retry; blocked: the head died and parks the ' +
      'conversation (onDead "block"); sending: the head is queued or in flight. ' +
      'Default: retrying and blocked',
  })
  @IsOptional()
  @IsIn(LANE_STATES)
  state?: LaneView['state'];

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

class LaneActionDto {
  @ApiProperty({
    description: 'The conversation (its canonical conversation.key)',
    example: 'jivo:chat:4711',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  conversationKey: string;
}

class LaneHeadView {
  @ApiProperty({ example: EXAMPLE_IDS.delivery })
  deliveryId: string;

  @ApiProperty({ example: EXAMPLE_IDS.event })
  eventId: string;

  @ApiProperty({ example: 8 })
  attemptCount: number;

  @ApiProperty({ example: 500, nullable: true, type: Number })
  lastStatusCode: number | null;

  @ApiProperty({ example: 'HTTP 500', nullable: true, type: String })
  lastError: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  nextAttemptAt: string | null;
}

class LaneResponse implements LaneView {
  @ApiProperty({ example: 'jivo:chat:4711' })
  conversationKey: string;

  @ApiProperty({ enum: LANE_STATES, example: 'blocked' })
  state: LaneView['state'];

  @ApiProperty({ type: LaneHeadView })
  head: LaneHeadView;

  @ApiProperty({
    description: 'Deliveries of the conversation waiting behind the head',
    example: 3,
  })
  held: number;

  @ApiProperty({ example: '2026-11-28T10:00:00.000Z', nullable: true, type: String })
  oldestHeldAt: string | null;
}

class SkippedResponse {
  @ApiProperty({ description: 'The head, now dead', example: EXAMPLE_IDS.delivery })
  skipped: string;
}

const NoSuchHead = ApiErrorResponse(409, 'The conversation has no head in that state', {
  statusCode: 409,
  error: 'conflict',
  message: `Conversation jivo:chat:4711 of subscription ${EXAMPLE_IDS.subscription} has no blocked head`,
});
const SubscriptionNotFound = ApiErrorResponse(404, 'No subscription with this id', {
  ...ERROR_EXAMPLES.notFound,
  message: `Subscription ${EXAMPLE_IDS.subscription} not found`,
});

/** The ordered conversations of a subscription (ordering "conversation"; docs/ordering.md). */
@ApiTags('subscriptions')
@ApiAdminAuth()
@Controller('api/subscriptions/:id/conversations')
export class OrderedLanesController {
  constructor(private readonly lanes: OrderedLanes) {}

  @Get()
  @ApiOperation({
    summary: 'Conversations whose head is failing or blocked, and how many wait behind it',
  })
  @ApiOkResponse({ type: [LaneResponse] })
  @ApiErrorResponse(400, 'A bad query parameter', ERROR_EXAMPLES.validationFailed)
  @SubscriptionNotFound
  list(@Param('id') id: string, @Query() query: LaneListQueryDto): Promise<LaneView[]> {
    return this.lanes.list(id, query.state, query.limit);
  }

  @Post('redrive')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a blocked head again now (a new run, full attempt budget); it keeps its place',
  })
  @ApiOkResponse({ type: LaneResponse })
  @NoSuchHead
  @SubscriptionNotFound
  redrive(@Param('id') id: string, @Body() body: LaneActionDto): Promise<LaneView> {
    return this.lanes.redriveHead(id, body.conversationKey);
  }

  @Post('skip')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Give up on a blocked or retrying head: it ends dead, and the next delivery of the conversation goes',
  })
  @ApiOkResponse({ type: SkippedResponse })
  @NoSuchHead
  @SubscriptionNotFound
  skip(@Param('id') id: string, @Body() body: LaneActionDto): Promise<{ skipped: string }> {
    return this.lanes.skipHead(id, body.conversationKey);
  }
}
