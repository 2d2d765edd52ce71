import { ApiProperty } from '@nestjs/swagger';

/** The outcome of one test send; nothing is stored. */
export class TestSendResult {
  @ApiProperty({
    description: 'The sample event id, also its webhook-id',
    example: 'evt_test_01JD3R2K5X8Y9Z0A1B2C3D4E5F',
  })
  eventId: string;

  @ApiProperty({ example: 'message.created' })
  eventType: string;

  @ApiProperty({ example: '2026-11-21T10:00:00.000Z' })
  startedAt: string;

  @ApiProperty({ example: true })
  succeeded: boolean;

  @ApiProperty({ example: 200, nullable: true, type: Number })
  statusCode: number | null;

  @ApiProperty({ example: 84 })
  durationMs: number;

  @ApiProperty({ example: null, nullable: true, type: String })
  error: string | null;

  @ApiProperty({ example: '{"ok":true}', nullable: true, type: String })
  responseExcerpt: string | null;
}
