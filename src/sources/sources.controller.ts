import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiAdminAuth, ApiErrorResponse, ApiPageResponse } from '../common/openapi';
import { ERROR_EXAMPLES, EXAMPLE_IDS } from '../common/openapi-examples';
import { Page, PageQuery } from '../common/pagination';
import { CreateSourceDto } from './dto/create-source.dto';
import {
  SOURCE_CREATED_EXAMPLE,
  SOURCE_EXAMPLE,
  SOURCE_ROTATED_EXAMPLE,
  SourceKindsResponse,
  SourceResponse,
} from './dto/source.response';
import { UpdateSourceDto } from './dto/update-source.dto';
import { SourceRegistry } from './source-registry';
import { SourcesService } from './sources.service';

/**
 * A source body: `kind` and `name` beside the kind's settings. Checked by SourcesService, which
 * knows the kind, so the global ValidationPipe leaves it alone (it is no class).
 */
type SourceBody = Record<string, unknown>;

const ApiSourceId = () => ApiParam({ name: 'id', example: EXAMPLE_IDS.source });
const ApiSourceNotFound = () =>
  ApiErrorResponse(404, 'No source with this id', ERROR_EXAMPLES.notFound);

@ApiTags('sources')
@ApiAdminAuth()
@Controller('api/sources')
export class SourcesController {
  constructor(
    private readonly sources: SourcesService,
    private readonly registry: SourceRegistry,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Create a source',
    description:
      'The answer holds the inbound URL with its token, the signing secret and the enrichment ' +
      'secret: they are shown here only, later reads mask them.',
  })
  @ApiBody({
    type: CreateSourceDto,
    examples: {
      jivo: {
        summary: 'Jivo, one widget only',
        value: { kind: 'jivo', name: 'Jivo main site', allowedChannelIds: ['3948'] },
      },
      chatwoot: {
        summary: 'Chatwoot with a signing secret',
        value: {
          kind: 'chatwoot',
          name: 'Chatwoot support inbox',
          signingSecret: '3vQmZ8kT1xYp9cRw5nLb7HsD',
        },
      },
      jivoEnriched: {
        summary: 'Jivo with CRM enrichment',
        value: {
          kind: 'jivo',
          name: 'Jivo sales',
          enrichmentUrl: 'https://crm.example.com/jivo/enrich',
          enrichmentTimeoutMs: 2000,
        },
      },
    },
  })
  @ApiCreatedResponse({
    type: SourceResponse,
    description: 'The source, with its token and secrets (shown once)',
    example: SOURCE_CREATED_EXAMPLE,
  })
  @ApiErrorResponse(
    400,
    'Invalid fields (each named in details), an unknown kind, or an enrichment URL on a private address',
    ERROR_EXAMPLES.validationFailed,
    ERROR_EXAMPLES.invalidJson,
  )
  create(@Body() body: SourceBody): Promise<SourceResponse> {
    return this.sources.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List sources', description: 'Newest first; tokens masked.' })
  @ApiPageResponse(SourceResponse, { example: { data: [SOURCE_EXAMPLE], nextCursor: null } })
  @ApiErrorResponse(400, 'A bad query parameter', ERROR_EXAMPLES.validationFailed)
  list(@Query() query: PageQuery): Promise<Page<SourceResponse>> {
    return this.sources.list(query);
  }

  @Get('kinds')
  @ApiOperation({ summary: 'List the source kinds (installed plug-ins)' })
  @ApiOkResponse({
    type: SourceKindsResponse,
    example: { data: ['jivo', 'chatwoot', 'jivo-bot'] },
  })
  kinds(): SourceKindsResponse {
    return { data: this.registry.kinds() };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a source', description: 'The token and secrets are masked.' })
  @ApiSourceId()
  @ApiOkResponse({ type: SourceResponse, example: SOURCE_EXAMPLE })
  @ApiSourceNotFound()
  get(@Param('id') id: string): Promise<SourceResponse> {
    return this.sources.get(id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Update a source',
    description:
      "Only the fields given change: `name` and the kind's own settings; null puts a setting " +
      'back to its default (`{"signingSecret": null}` stops requiring Chatwoot signatures). ' +
      'Changes reach every API process within 5 seconds.',
  })
  @ApiSourceId()
  @ApiBody({
    type: UpdateSourceDto,
    examples: {
      allowList: {
        summary: 'Accept two Jivo widgets',
        value: { allowedChannelIds: ['3948', '4120'] },
      },
      enrichment: {
        summary: 'Start enriching Jivo replies',
        value: { enrichmentUrl: 'https://crm.example.com/jivo/enrich', enrichmentTimeoutMs: 1500 },
      },
      rename: {
        summary: 'Rename, and accept every widget again',
        value: { name: 'Jivo main site (EU)', allowedChannelIds: [] },
      },
    },
  })
  @ApiOkResponse({
    type: SourceResponse,
    description: 'The source; `enrichmentSecret` appears when this update set the first URL',
    example: { ...SOURCE_EXAMPLE, allowedChannelIds: ['3948', '4120'] },
  })
  @ApiErrorResponse(
    400,
    'Invalid fields, each named in details',
    ERROR_EXAMPLES.validationFailed,
    ERROR_EXAMPLES.invalidJson,
  )
  @ApiSourceNotFound()
  update(@Param('id') id: string, @Body() body: SourceBody): Promise<SourceResponse> {
    return this.sources.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a source',
    description: 'Its URL stops answering (404); stored events stay.',
  })
  @ApiSourceId()
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiSourceNotFound()
  async remove(@Param('id') id: string): Promise<void> {
    await this.sources.remove(id);
  }

  @Post(':id/rotate-token')
  @HttpCode(200)
  @ApiOperation({
    summary: "Rotate a source's URL token",
    description:
      'The old URL stops working (within 5 seconds on every API process); paste the new `url` ' +
      'into the sender. The token is shown in this answer only.',
  })
  @ApiSourceId()
  @ApiOkResponse({ type: SourceResponse, example: SOURCE_ROTATED_EXAMPLE })
  @ApiSourceNotFound()
  rotateToken(@Param('id') id: string): Promise<SourceResponse> {
    return this.sources.rotateToken(id);
  }
}
