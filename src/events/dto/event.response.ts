import { ApiProperty } from '@nestjs/swagger';
import type { CanonicalEvent } from '../../canonical/canonical-event';
import { EXAMPLE_IDS, EXAMPLE_TIMESTAMP } from '../../common/openapi-examples';
import { DeliveryView } from '../../delivery/dto/delivery.response';

export class EventSummary {
  @ApiProperty({ example: EXAMPLE_IDS.event })
  id: string;

  @ApiProperty({ example: 'message.created', nullable: true, type: String })
  type: string | null;

  @ApiProperty({ enum: ['routed', 'unprocessable'], example: 'routed' })
  status: string;

  @ApiProperty({
    description: 'Why an unprocessable event could not be normalized',
    example: null,
    nullable: true,
    type: String,
  })
  error: string | null;

  @ApiProperty({ example: EXAMPLE_IDS.source })
  sourceId: string;

  @ApiProperty({ example: 'chatwoot' })
  sourceKind: string;

  @ApiProperty({ example: 'message_created', nullable: true, type: String })
  sourceEvent: string | null;

  @ApiProperty({ example: `chatwoot:${EXAMPLE_IDS.source}:42`, nullable: true, type: String })
  conversationKey: string | null;

  @ApiProperty({
    example: 'conv_01JDA2B8N6M4P2Q7R5S3T1V9WX',
    nullable: true,
    type: String,
    description: "The router's conversation id (GET /api/conversations/:id)",
  })
  conversationId: string | null;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  occurredAt: string;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP })
  receivedAt: string;
}

export class EventDetail extends EventSummary {
  @ApiProperty({
    description: 'The canonical event (docs/canonical-model.md); null when unprocessable',
    type: Object,
    nullable: true,
    example: { id: EXAMPLE_IDS.event, type: 'message.created', schemaVersion: 2 },
  })
  event: CanonicalEvent | null;

  @ApiProperty({
    description:
      'The payload as the source sent it: parsed, or the text as received when it is not JSON or nests deeper than 1,000 levels',
    type: Object,
    example: { event: 'message_created', id: 9120, content: 'Olá!' },
  })
  raw: unknown;

  @ApiProperty({ type: [DeliveryView] })
  deliveries: DeliveryView[];
}
