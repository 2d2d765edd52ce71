import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { CANONICAL_EVENT_TYPES } from '../../canonical/canonical-event';

export class TestSubscriptionDto {
  @ApiPropertyOptional({
    description:
      'Canonical type of the sample event; default: the first type the subscription asks for.',
    example: 'message.created',
    enum: CANONICAL_EVENT_TYPES,
  })
  @IsOptional()
  @IsIn(CANONICAL_EVENT_TYPES, { message: 'eventType must be a canonical event type' })
  eventType?: string;
}
