import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { ActionsScope, CurrentPrincipal, Principal } from '../auth/principal';
import { ApiAdminAuth, ApiErrorResponse, ApiPageResponse } from '../common/openapi';
import { ERROR_EXAMPLES, EXAMPLE_IDS, EXAMPLE_TIMESTAMP } from '../common/openapi-examples';
import { PageQuery } from '../common/pagination';
import { CanonicalAction } from '../sources/source-actions';
import { ActionsService } from './actions.service';
import {
  AssigneeActionDto,
  HandoffActionDto,
  LabelsActionDto,
  MessageActionDto,
  StatusActionDto,
  TypingActionDto,
} from './dto/action-requests';
import {
  ActionDetailView,
  ActionView,
  EXAMPLE_ACTION_ID,
  EXAMPLE_CONVERSATION_KEY,
} from './dto/action.view';

export class ActionListQueryDto extends PageQuery {
  @ApiPropertyOptional({
    example: EXAMPLE_CONVERSATION_KEY,
    description: "Only this conversation's actions: a `conv_…` id or a conversation key",
  })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  conversationId?: string;
}

const EXAMPLE_ACTION = {
  id: EXAMPLE_ACTION_ID,
  conversationId: null,
  conversationKey: EXAMPLE_CONVERSATION_KEY,
  sourceId: EXAMPLE_IDS.source,
  sourceKind: 'jivo-bot',
  kind: 'message',
  request: { kind: 'message', text: 'Hello!', buttons: [], private: false },
  status: 'queued',
  attemptCount: 0,
  error: null,
  outcomeEventId: null,
  createdAt: EXAMPLE_TIMESTAMP,
  updatedAt: EXAMPLE_TIMESTAMP,
  completedAt: null,
};

const CONVERSATION_PARAM = ApiParam({
  name: 'id',
  example: EXAMPLE_CONVERSATION_KEY,
  description:
    "The router's conversation id (`conv_…`) or the canonical `conversation.key` an event carried",
});
const IDEMPOTENCY_HEADER = ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description:
    'Sent again with the same request, answers the first action instead of making another; ' +
    'with another request: 422',
});
const CANNOT = ApiErrorResponse(409, "The conversation's platform cannot take this action", {
  statusCode: 409,
  error: 'conflict',
  message: 'A jivo conversation cannot take "message": the jivo kind can take no action',
  details: { sourceKind: 'jivo', capabilities: [] },
});
const NO_CONVERSATION = ApiErrorResponse(404, 'No such conversation', {
  ...ERROR_EXAMPLES.notFound,
  message: `Conversation ${EXAMPLE_CONVERSATION_KEY} not found`,
});
const KEY_REUSED = ApiErrorResponse(422, 'The Idempotency-Key was used for another request', {
  statusCode: 422,
  error: 'unprocessable',
  message: `This Idempotency-Key was used for another request (action ${EXAMPLE_ACTION_ID}): use a new key for a new action`,
  details: { actionId: EXAMPLE_ACTION_ID },
});
const SCOPED_ELSEWHERE = ApiErrorResponse(403, 'A scoped key outside its sources', {
  statusCode: 403,
  error: 'forbidden',
  message: `This key may not act on source ${EXAMPLE_IDS.source}'s conversations`,
});

function ActionRoute(summary: string) {
  return (target: object, key: string | symbol, descriptor: PropertyDescriptor) => {
    for (const decorate of [
      Post(`:id/${String(key)}`),
      HttpCode(202),
      ActionsScope(),
      ApiOperation({ summary }),
      CONVERSATION_PARAM,
      IDEMPOTENCY_HEADER,
      ApiAcceptedResponse({
        type: ActionView,
        description: 'Stored and queued; `GET /api/actions/:id` follows it',
      }),
      ApiErrorResponse(400, 'Invalid fields', ERROR_EXAMPLES.validationFailed),
      SCOPED_ELSEWHERE,
      NO_CONVERSATION,
      CANNOT,
      KEY_REUSED,
    ]) {
      decorate(target, key, descriptor);
    }
  };
}

@ApiTags('actions')
@ApiAdminAuth()
@Controller('api/conversations')
export class ConversationActionsController {
  constructor(private readonly actions: ActionsService) {}

  @ActionRoute('Send a message (text, buttons, a private note) to the conversation')
  messages(
    @Param('id') id: string,
    @Body() body: MessageActionDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const action: CanonicalAction = {
      kind: 'message',
      text: body.text,
      buttons: (body.buttons ?? []).map((button) => ({ id: button.id, text: button.text })),
      private: body.private ?? false,
    };
    return this.take(id, action, principal, idempotencyKey, reply);
  }

  @ActionRoute('Hand the conversation to a human (an agent or team where the platform takes one)')
  handoff(
    @Param('id') id: string,
    @Body() body: HandoffActionDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const action: CanonicalAction = {
      kind: 'handoff',
      agentId: body?.agentId ?? null,
      teamId: body?.teamId ?? null,
    };
    return this.take(id, action, principal, idempotencyKey, reply);
  }

  @ActionRoute("Set the conversation's status: open, pending, resolved or snoozed")
  status(
    @Param('id') id: string,
    @Body() body: StatusActionDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const action: CanonicalAction = {
      kind: 'status',
      status: body.status,
      snoozedUntil: body.status === 'snoozed' ? (body.snoozedUntil ?? null) : null,
    };
    return this.take(id, action, principal, idempotencyKey, reply);
  }

  @ActionRoute('Assign the conversation to an agent and/or a team (nothing given: unassign)')
  assignee(
    @Param('id') id: string,
    @Body() body: AssigneeActionDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const action: CanonicalAction = {
      kind: 'assignee',
      agentId: body?.agentId ?? null,
      teamId: body?.teamId ?? null,
    };
    return this.take(id, action, principal, idempotencyKey, reply);
  }

  @ActionRoute("Replace the conversation's labels")
  labels(
    @Param('id') id: string,
    @Body() body: LabelsActionDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const action: CanonicalAction = { kind: 'labels', labels: [...new Set(body.labels)] };
    return this.take(id, action, principal, idempotencyKey, reply);
  }

  @ActionRoute('Show or stop the typing indicator')
  typing(
    @Param('id') id: string,
    @Body() body: TypingActionDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.take(id, { kind: 'typing', on: body.on }, principal, idempotencyKey, reply);
  }

  private async take(
    id: string,
    action: CanonicalAction,
    principal: Principal,
    idempotencyKey: string | undefined,
    reply: FastifyReply,
  ): Promise<ActionView> {
    const taken = await this.actions.take(id, action, principal, idempotencyKey);
    if (taken.replayed) void reply.header('idempotent-replayed', 'true');
    return taken.action;
  }
}

@ApiTags('actions')
@ApiAdminAuth()
@Controller('api/actions')
export class ActionsController {
  constructor(private readonly actions: ActionsService) {}

  @Get()
  @ActionsScope()
  @ApiOperation({
    summary: 'List actions, newest first; conversationId narrows to one conversation',
  })
  @ApiPageResponse(ActionView, { example: { data: [EXAMPLE_ACTION], nextCursor: null } })
  @ApiErrorResponse(400, 'A bad query parameter', ERROR_EXAMPLES.validationFailed)
  list(@Query() query: ActionListQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.actions.list(query, principal);
  }

  @Get(':id')
  @ActionsScope()
  @ApiOperation({ summary: 'One action with every attempt made' })
  @ApiOkResponse({ type: ActionDetailView })
  @ApiErrorResponse(404, 'No action with this id', {
    ...ERROR_EXAMPLES.notFound,
    message: `Action ${EXAMPLE_ACTION_ID} not found`,
  })
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return this.actions.get(id, principal);
  }
}
