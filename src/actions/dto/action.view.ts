import { ApiProperty } from '@nestjs/swagger';
import { EXAMPLE_IDS, EXAMPLE_TIMESTAMP } from '../../common/openapi-examples';
import { ACTION_KINDS } from '../../sources/source-actions';
import { ACTION_STATES, ActionAttemptEntity, ActionEntity } from '../action.entity';

export const EXAMPLE_ACTION_ID = 'act_01JDA2E5F7G9H1J3K5M7N9P1QR';
export const EXAMPLE_CONVERSATION_KEY = `jivo-bot:${EXAMPLE_IDS.source}:2037`;

export class ActionAttemptView {
  @ApiProperty({ example: 1 })
  number: number;

  @ApiProperty({ example: 'BOT_MESSAGE', description: 'What the call did' })
  call: string;

  @ApiProperty({
    example: 'https://bot.jivosite.com/webhooks/provider/…',
    description: 'Where it went; a token in the URL shows as …',
  })
  url: string;

  @ApiProperty({ type: Number, nullable: true, example: 429 })
  statusCode: number | null;

  @ApiProperty({ type: String, nullable: true, example: 'HTTP 429' })
  error: string | null;

  @ApiProperty({ type: String, nullable: true, example: '{"error":"slow down"}' })
  responseExcerpt: string | null;

  @ApiProperty({ example: 42 })
  durationMs: number;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP, format: 'date-time' })
  startedAt: string;
}

export class ActionView {
  @ApiProperty({ example: EXAMPLE_ACTION_ID })
  id: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: "The router's conversation id, when it keeps the conversation",
  })
  conversationId: string | null;

  @ApiProperty({ example: EXAMPLE_CONVERSATION_KEY })
  conversationKey: string;

  @ApiProperty({ example: EXAMPLE_IDS.source })
  sourceId: string;

  @ApiProperty({ example: 'jivo-bot' })
  sourceKind: string;

  @ApiProperty({ enum: ACTION_KINDS, example: 'message' })
  kind: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { kind: 'message', text: 'Hello!', buttons: [], private: false },
    description: 'The action as taken, defaults filled in',
  })
  request: Record<string, unknown>;

  @ApiProperty({
    enum: ACTION_STATES,
    example: 'succeeded',
    description: 'queued: to send or being retried; succeeded; failed (error says why)',
  })
  status: string;

  @ApiProperty({ example: 1, description: 'Calls made to the platform, retries included' })
  attemptCount: number;

  @ApiProperty({ type: String, nullable: true, example: null })
  error: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: EXAMPLE_IDS.event,
    description: 'The `action.succeeded` / `action.failed` event, once it ended',
  })
  outcomeEventId: string | null;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP, format: 'date-time' })
  createdAt: string;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP, format: 'date-time' })
  updatedAt: string;

  @ApiProperty({ type: String, nullable: true, example: EXAMPLE_TIMESTAMP, format: 'date-time' })
  completedAt: string | null;
}

export class ActionDetailView extends ActionView {
  @ApiProperty({ type: [ActionAttemptView] })
  attempts: ActionAttemptView[];
}

export function toActionView(action: ActionEntity): ActionView {
  return {
    id: action.id,
    conversationId: action.conversationId,
    conversationKey: action.conversationKey,
    sourceId: action.sourceId,
    sourceKind: action.sourceKind,
    kind: action.kind,
    request: action.request as unknown as Record<string, unknown>,
    status: action.status,
    attemptCount: action.attempts,
    error: action.error,
    outcomeEventId: action.outcomeEventId,
    createdAt: action.createdAt.toISOString(),
    updatedAt: action.updatedAt.toISOString(),
    completedAt: action.completedAt?.toISOString() ?? null,
  };
}

export function toAttemptView(attempt: ActionAttemptEntity): ActionAttemptView {
  return {
    number: attempt.attemptNumber,
    call: attempt.call,
    url: attempt.url,
    statusCode: attempt.statusCode,
    error: attempt.error,
    responseExcerpt: attempt.responseExcerpt,
    durationMs: attempt.durationMs,
    startedAt: attempt.startedAt.toISOString(),
  };
}
