import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
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
import { ConversationsService } from './conversations.service';
import {
  ContactDetail,
  ContactView,
  ConversationDetail,
  ConversationView,
  EXAMPLE_CONTACT_ID,
  EXAMPLE_CONVERSATION_ID,
  EXAMPLE_IDENTITY_ID,
} from './dto/conversation.response';

const STATUSES = ['open', 'pending', 'snoozed', 'resolved', 'offline', 'unknown'];

export class ConversationListQueryDto extends PageQuery {
  @ApiPropertyOptional({ example: EXAMPLE_IDS.source })
  @IsOptional()
  @IsString()
  sourceId?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: string;

  @ApiPropertyOptional({ example: 'whatsapp', description: 'The channel type' })
  @IsOptional()
  @IsString()
  channel?: string;

  @ApiPropertyOptional({ example: '3', description: "The assignee's id on the source" })
  @IsOptional()
  @IsString()
  assignee?: string;

  @ApiPropertyOptional({ example: EXAMPLE_CONTACT_ID })
  @IsOptional()
  @IsString()
  contactId?: string;

  @ApiPropertyOptional({ example: 'vip' })
  @IsOptional()
  @IsString()
  label?: string;

  @ApiPropertyOptional({
    description: 'Last activity at or after (ISO 8601)',
    example: EXAMPLE_TIMESTAMP,
  })
  @IsOptional()
  @IsInstant()
  since?: Date;

  @ApiPropertyOptional({
    description: 'Last activity before (ISO 8601)',
    example: EXAMPLE_TIMESTAMP,
  })
  @IsOptional()
  @IsInstant()
  until?: Date;

  @ApiPropertyOptional({
    description:
      "The contact's email or phone (exact, on any identity), or a piece of the contact's name",
    example: 'maria.souza@example.com',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  q?: string;
}

export class ConversationGetQueryDto {
  @ApiPropertyOptional({ description: "The previous answer's `timelineNextCursor`" })
  @IsOptional()
  @IsString()
  timelineCursor?: string;
}

export class ContactListQueryDto extends PageQuery {
  @ApiPropertyOptional({ example: 'Maria', description: 'Email, phone or a piece of the name' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  q?: string;

  @ApiPropertyOptional({ example: 'maria.souza@example.com' })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ example: '+5511987654321', description: 'Matched in E.164' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  phone?: string;

  @ApiPropertyOptional({ example: EXAMPLE_IDS.source, description: 'Has an identity on it' })
  @IsOptional()
  @IsString()
  sourceId?: string;
}

export class MergeContactsDto {
  @ApiProperty({ example: EXAMPLE_CONTACT_ID, description: 'The contact that stays' })
  @IsString()
  @IsNotEmpty()
  intoContactId: string;

  @ApiProperty({
    example: ['ct_01JDA2B8N6M4P2Q7R5S3T1V9X0'],
    type: [String],
    description: 'The contacts that join it and go',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  contactIds: string[];
}

export class SplitContactDto {
  @ApiProperty({ example: EXAMPLE_IDENTITY_ID, description: 'The identity to take out' })
  @IsString()
  @IsNotEmpty()
  identityId: string;
}

const conversationExample = {
  id: EXAMPLE_CONVERSATION_ID,
  key: `chatwoot:${EXAMPLE_IDS.source}:42`,
  sourceId: EXAMPLE_IDS.source,
  sourceKind: 'chatwoot',
  externalId: '42',
  contactId: EXAMPLE_CONTACT_ID,
  contactExternalId: '5821',
  status: 'open',
  channel: { type: 'whatsapp', externalId: '7', name: 'WhatsApp' },
  team: null,
  assignee: null,
  agents: [],
  labels: ['vip'],
  rating: null,
  attributes: {},
  startedAt: EXAMPLE_TIMESTAMP,
  endedAt: null,
  firstActivityAt: EXAMPLE_TIMESTAMP,
  lastActivityAt: EXAMPLE_TIMESTAMP,
  messageCounts: { inbound: 1, outbound: 0, internal: 0 },
  lastMessage: {
    externalId: '88122',
    direction: 'inbound',
    text: 'Olá!',
    createdAt: EXAMPLE_TIMESTAMP,
    senderName: 'Maria Souza',
    deleted: false,
  },
};

const contactExample = {
  id: EXAMPLE_CONTACT_ID,
  name: 'Maria Souza',
  email: 'maria.souza@example.com',
  phoneE164: '+5511987654321',
  createdAt: EXAMPLE_TIMESTAMP,
  updatedAt: EXAMPLE_TIMESTAMP,
};

const contactDetailExample = {
  ...contactExample,
  identities: [
    {
      id: EXAMPLE_IDENTITY_ID,
      sourceId: EXAMPLE_IDS.source,
      sourceKind: 'chatwoot',
      externalId: '5821',
      name: 'Maria Souza',
      email: 'maria.souza@example.com',
      phone: '+55 11 98765-4321',
      phoneE164: '+5511987654321',
      autoJoin: true,
    },
  ],
  conversations: [conversationExample],
  links: [
    {
      reason: 'created',
      identityId: EXAMPLE_IDENTITY_ID,
      otherContactId: null,
      value: null,
      eventId: EXAMPLE_IDS.event,
      at: EXAMPLE_TIMESTAMP,
    },
  ],
};

@ApiTags('conversations')
@ApiAdminAuth()
@Controller('api/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get()
  @ApiOperation({ summary: 'List conversations, most recent activity first, filtered' })
  @ApiPageResponse(ConversationView, {
    description: 'One page, most recent activity first',
    example: { data: [conversationExample], nextCursor: null },
  })
  @ApiErrorResponse(400, 'A bad query parameter or cursor', ERROR_EXAMPLES.validationFailed)
  list(@Query() query: ConversationListQueryDto) {
    return this.conversations.list(query);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'A conversation: its state and its timeline (every canonical event, in order)',
  })
  @ApiOkResponse({
    type: ConversationDetail,
    example: {
      ...conversationExample,
      timeline: [
        {
          eventId: EXAMPLE_IDS.event,
          type: 'message.created',
          sourceEvent: 'message_created',
          occurredAt: EXAMPLE_TIMESTAMP,
          receivedAt: EXAMPLE_TIMESTAMP,
          message: {
            externalId: '88122',
            direction: 'inbound',
            kind: 'text',
            text: 'Olá!',
            attachments: [],
            sender: { type: 'contact', externalId: '5821', name: 'Maria Souza', email: null },
            createdAt: EXAMPLE_TIMESTAMP,
            private: false,
            deleted: false,
            status: null,
          },
          changes: null,
        },
      ],
      timelineNextCursor: null,
      eventsPurgedBefore: null,
    },
  })
  @ApiErrorResponse(400, 'A bad timeline cursor', ERROR_EXAMPLES.validationFailed)
  @ApiErrorResponse(404, 'No conversation with this id', {
    ...ERROR_EXAMPLES.notFound,
    message: `Conversation ${EXAMPLE_CONVERSATION_ID} not found`,
  })
  get(@Param('id') id: string, @Query() query: ConversationGetQueryDto) {
    return this.conversations.get(id, query.timelineCursor);
  }
}

const ContactNotFound = ApiErrorResponse(404, 'No contact with this id', {
  ...ERROR_EXAMPLES.notFound,
  message: `Contact ${EXAMPLE_CONTACT_ID} not found`,
});

@ApiTags('contacts')
@ApiAdminAuth()
@Controller('api/contacts')
export class ContactsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get()
  @ApiOperation({ summary: 'List contacts, newest first, filtered through their identities' })
  @ApiPageResponse(ContactView, { example: { data: [contactExample], nextCursor: null } })
  @ApiErrorResponse(400, 'A bad query parameter', ERROR_EXAMPLES.validationFailed)
  list(@Query() query: ContactListQueryDto) {
    return this.conversations.listContacts(query);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'A contact: its identities, its conversations on every source, and its join log',
  })
  @ApiOkResponse({ type: ContactDetail, example: contactDetailExample })
  @ContactNotFound
  get(@Param('id') id: string): Promise<ContactDetail> {
    return this.conversations.getContact(id);
  }

  @Post('merge')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Merge contacts by hand: their identities and conversations join the target',
  })
  @ApiBody({
    type: MergeContactsDto,
    examples: {
      merge: {
        summary: 'Two contacts that are one person',
        value: { intoContactId: EXAMPLE_CONTACT_ID, contactIds: ['ct_01JDA2B8N6M4P2Q7R5S3T1V9X0'] },
      },
    },
  })
  @ApiOkResponse({
    type: ContactDetail,
    description: 'The merged contact',
    example: contactDetailExample,
  })
  @ApiErrorResponse(400, 'No other contact named', ERROR_EXAMPLES.validationFailed)
  @ContactNotFound
  merge(@Body() dto: MergeContactsDto): Promise<ContactDetail> {
    return this.conversations.merge(dto.intoContactId, dto.contactIds);
  }

  @Post(':id/split')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Split an identity out into a new contact, with its conversations; automatic joins leave it alone from then on',
  })
  @ApiBody({
    type: SplitContactDto,
    examples: {
      split: { summary: 'Not the same person', value: { identityId: EXAMPLE_IDENTITY_ID } },
    },
  })
  @ApiOkResponse({
    type: ContactDetail,
    description: 'The new contact',
    example: contactDetailExample,
  })
  @ApiErrorResponse(400, 'No identity named', ERROR_EXAMPLES.validationFailed)
  @ContactNotFound
  @ApiErrorResponse(409, 'The identity is the contact’s only one', {
    statusCode: 409,
    error: 'conflict',
    message: `Contact ${EXAMPLE_CONTACT_ID} has only this identity; there is nothing to split it from`,
  })
  split(@Param('id') id: string, @Body() dto: SplitContactDto): Promise<ContactDetail> {
    return this.conversations.split(id, dto.identityId);
  }
}
