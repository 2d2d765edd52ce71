import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXAMPLE_IDS, EXAMPLE_TIMESTAMP } from '../../common/openapi-examples';
import { DELIVERY_STATUSES, DeliveryStatus } from '../delivery.entity';

export class AttemptView {
  @ApiProperty({ example: 1 })
  attemptNumber: number;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  startedAt: string;

  @ApiProperty({ example: 212 })
  durationMs: number;

  @ApiProperty({ example: 500, nullable: true, type: Number })
  statusCode: number | null;

  @ApiProperty({ example: false })
  succeeded: boolean;

  @ApiProperty({ example: 'HTTP 500', nullable: true, type: String })
  error: string | null;

  @ApiProperty({
    description: 'The start of the response body (1 KiB at most)',
    example: '{"error":"database is down"}',
    nullable: true,
    type: String,
  })
  responseExcerpt: string | null;
}

/**
 * pending: queued; failed: the last attempt failed and another is scheduled; dead: no more;
 * held: waiting behind the head of its ordered conversation; blocked: a dead head parking it.
 */
export class DeliveryView {
  @ApiProperty({ example: EXAMPLE_IDS.delivery })
  id: string;

  @ApiProperty({ example: EXAMPLE_IDS.event })
  eventId: string;

  @ApiProperty({ example: EXAMPLE_IDS.subscription })
  subscriptionId: string;

  @ApiProperty({ enum: DELIVERY_STATUSES, example: 'failed' })
  status: DeliveryStatus;

  @ApiProperty({ example: 1 })
  attemptCount: number;

  @ApiProperty({ example: 500, nullable: true, type: Number })
  lastStatusCode: number | null;

  @ApiProperty({ example: 'HTTP 500', nullable: true, type: String })
  lastError: string | null;

  @ApiProperty({ example: '2026-04-16T14:05:46.102Z', nullable: true, type: String })
  nextAttemptAt: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  completedAt: string | null;

  @ApiProperty({
    description:
      'The conversation it is delivered in order within (its subscription has ordering ' +
      '"conversation"); null: not ordered',
    example: 'jivo:chat:4711',
    nullable: true,
    type: String,
  })
  conversationKey: string | null;

  @ApiProperty({
    description:
      'Ordered only: "released after <id> died" when the head before it died and let it go, ' +
      'or why an operator ended it',
    example: null,
    nullable: true,
    type: String,
  })
  orderingNote: string | null;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  createdAt: string;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  updatedAt: string;

  @ApiPropertyOptional({ type: [AttemptView], description: 'On the detail route: every attempt' })
  attempts?: AttemptView[];
}
