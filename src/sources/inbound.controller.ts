import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { IngestService } from './ingest.service';

@Controller('webhooks')
export class InboundController {
  constructor(private readonly ingest: IngestService) {}

  /** The URL a user pastes into Jivo or Chatwoot. */
  @Post(':kind/:token')
  @HttpCode(200)
  receive(
    @Param('kind') kind: string,
    @Param('token') token: string,
    @Req() request: FastifyRequest,
  ): Promise<unknown> {
    return this.ingest.accept({
      kind,
      token,
      rawBody: request.rawBody,
      body: request.body,
      headers: request.headers,
    });
  }
}
