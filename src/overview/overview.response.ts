import { ApiProperty } from '@nestjs/swagger';
import { EXAMPLE_IDS, EXAMPLE_TIMESTAMP } from '../common/openapi-examples';

export const OVERVIEW_WINDOWS = ['hour', 'day'] as const;
export type OverviewWindow = (typeof OVERVIEW_WINDOWS)[number];

export class EventBucket {
  @ApiProperty({ description: 'Start of the bucket', example: EXAMPLE_TIMESTAMP })
  at: string;

  @ApiProperty({ example: 41 })
  routed: number;

  @ApiProperty({ example: 1 })
  unprocessable: number;
}

export class DeliveryBucket {
  @ApiProperty({ description: 'Start of the bucket', example: EXAMPLE_TIMESTAMP })
  at: string;

  @ApiProperty({ description: 'Created in the bucket, succeeded now', example: 80 })
  succeeded: number;

  @ApiProperty({ description: 'Created in the bucket, waiting for a retry now', example: 2 })
  failed: number;

  @ApiProperty({ description: 'Created in the bucket, dead now', example: 1 })
  dead: number;

  @ApiProperty({ description: 'Created in the bucket, not attempted yet in its run', example: 0 })
  pending: number;

  @ApiProperty({
    description: 'Created in the bucket, waiting behind an earlier delivery of its conversation',
    example: 0,
  })
  held: number;

  @ApiProperty({
    description: 'Created in the bucket, parked by a dead head (`onDead: "block"`)',
    example: 0,
  })
  blocked: number;
}

export class FailingSubscriptionView {
  @ApiProperty({ example: EXAMPLE_IDS.subscription })
  id: string;

  @ApiProperty({ example: 'CRM sync' })
  name: string;

  @ApiProperty({ example: true })
  enabled: boolean;

  @ApiProperty({ description: 'Its deliveries of the window waiting for a retry', example: 3 })
  failed: number;

  @ApiProperty({ description: 'Its deliveries of the window that are dead', example: 2 })
  dead: number;

  @ApiProperty({ example: 'HTTP 500', nullable: true, type: String })
  lastError: string | null;
}

export class DisabledSubscriptionView {
  @ApiProperty({ example: EXAMPLE_IDS.subscription })
  id: string;

  @ApiProperty({ example: 'CRM sync' })
  name: string;

  @ApiProperty({ example: 'target answered 410 Gone', nullable: true, type: String })
  disabledReason: string | null;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP, nullable: true, type: String })
  disabledAt: string | null;
}

export class ActivityOverview {
  @ApiProperty({ enum: OVERVIEW_WINDOWS, example: 'hour' })
  window: OverviewWindow;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  since: string;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  until: string;

  @ApiProperty({ example: 300 })
  bucketSeconds: number;

  @ApiProperty({ type: [EventBucket], description: 'Events received, per bucket, oldest first' })
  events: EventBucket[];

  @ApiProperty({
    type: [DeliveryBucket],
    description: 'Deliveries created per bucket, by their status now, oldest first',
  })
  deliveries: DeliveryBucket[];

  @ApiProperty({
    type: [FailingSubscriptionView],
    description:
      'Subscriptions with failing or dead deliveries in the window, most first (20 at most)',
  })
  failingSubscriptions: FailingSubscriptionView[];

  @ApiProperty({
    type: [DisabledSubscriptionView],
    description: 'Disabled subscriptions, most recently disabled first (20 at most)',
  })
  disabledSubscriptions: DisabledSubscriptionView[];
}
