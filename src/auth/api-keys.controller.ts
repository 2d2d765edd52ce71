import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { ApiAdminAuth, ApiErrorResponse, ApiPageResponse } from '../common/openapi';
import { ERROR_EXAMPLES, EXAMPLE_IDS, EXAMPLE_TIMESTAMP } from '../common/openapi-examples';
import { PageQuery } from '../common/pagination';
import { API_KEY_SCOPES } from './api-key.entity';
import { ApiKeysService } from './api-keys.service';

const EXAMPLE_KEY_ID = 'key_01JDA2D4E6F8G0H2J4K6M8N0PR';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'faq-bot', maxLength: 200, description: 'Who the key is for' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({
    type: [String],
    example: [EXAMPLE_IDS.source],
    maxItems: 100,
    description: 'The sources whose conversations the key may act on; empty or absent: all',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  sourceIds?: string[];
}

export class ApiKeyView {
  @ApiProperty({ example: EXAMPLE_KEY_ID })
  id: string;

  @ApiProperty({ example: 'faq-bot' })
  name: string;

  @ApiProperty({
    enum: API_KEY_SCOPES,
    example: 'actions',
    description: 'actions: the action API only (act on conversations, read actions)',
  })
  scope: string;

  @ApiProperty({ type: [String], example: [EXAMPLE_IDS.source] })
  sourceIds: string[];

  @ApiProperty({ example: 'x9Qz', description: "The key's last four characters" })
  hint: string;

  @ApiProperty({ example: EXAMPLE_TIMESTAMP, format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, nullable: true, example: null, format: 'date-time' })
  revokedAt: string | null;
}

export class MintedApiKey extends ApiKeyView {
  @ApiProperty({
    example: `${EXAMPLE_KEY_ID}.3vQmZ8kT1xYp9cRw5nLb7HsD3vQmZ8kT1xYp9cRw5nL`,
    description: 'The key, shown in this answer only: send it as `Authorization: Bearer <key>`',
  })
  key: string;
}

@ApiTags('api keys')
@ApiAdminAuth()
@Controller('api/keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({
    summary: 'Mint a key scoped to the action API (for a bot), optionally to some sources',
  })
  @ApiCreatedResponse({ type: MintedApiKey })
  @ApiErrorResponse(400, 'Invalid fields', ERROR_EXAMPLES.validationFailed)
  mint(@Body() body: CreateApiKeyDto) {
    return this.keys.mint({ name: body.name, sourceIds: body.sourceIds ?? [] });
  }

  @Get()
  @ApiOperation({ summary: 'List scoped keys (never the keys themselves), newest first' })
  @ApiPageResponse(ApiKeyView, {
    example: {
      data: [
        {
          id: EXAMPLE_KEY_ID,
          name: 'faq-bot',
          scope: 'actions',
          sourceIds: [],
          hint: 'x9Qz',
          createdAt: EXAMPLE_TIMESTAMP,
          revokedAt: null,
        },
      ],
      nextCursor: null,
    },
  })
  list(@Query() query: PageQuery) {
    return this.keys.list(query);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a scoped key: it is refused from the next request on' })
  @ApiNoContentResponse({ description: 'Revoked (or already revoked)' })
  @ApiErrorResponse(404, 'No key with this id', {
    ...ERROR_EXAMPLES.notFound,
    message: `API key ${EXAMPLE_KEY_ID} not found`,
  })
  async revoke(@Param('id') id: string) {
    await this.keys.revoke(id);
  }
}
