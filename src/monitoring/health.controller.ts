import { Controller, Get, Header, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { HealthCheckResult } from '@nestjs/terminus';
import { Public } from '../auth/admin-key.guard';
import { HealthChecks } from './health-checks';

const UP = { status: 'up' };
const LIVE_EXAMPLE = { status: 'ok', info: {}, error: {}, details: {} };
const READY_EXAMPLE = {
  status: 'ok',
  info: { database: UP, redis: UP },
  error: {},
  details: { database: UP, redis: UP },
};
const NOT_READY_EXAMPLE = {
  status: 'error',
  info: { database: UP },
  error: { redis: { status: 'down', message: 'timeout of 500ms exceeded' } },
  details: { database: UP, redis: { status: 'down', message: 'timeout of 500ms exceeded' } },
};
const HEALTH_SCHEMA = {
  type: 'object',
  required: ['status', 'details'],
  properties: {
    status: { type: 'string', enum: ['ok', 'error', 'shutting_down'] },
    info: { type: 'object', additionalProperties: { type: 'object' } },
    error: { type: 'object', additionalProperties: { type: 'object' } },
    details: { type: 'object', additionalProperties: { type: 'object' } },
  },
};

/** Probes for orchestrators: no admin key, never cached. */
@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly checks: HealthChecks) {}

  @Get('live')
  @Header('Cache-Control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({
    summary: 'Liveness: the process is up',
    description:
      'No admin key. Asks nothing of Postgres or Redis: restart the process only if this fails.',
  })
  @ApiOkResponse({ description: 'Up', schema: HEALTH_SCHEMA, example: LIVE_EXAMPLE })
  async live(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    const answer = await this.checks.live();
    void reply.status(answer.statusCode);
    return answer.body;
  }

  @Get('ready')
  @Header('Cache-Control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({
    summary: 'Readiness: Postgres and Redis are reachable',
    description:
      'No admin key. Pings Postgres (1 s) and Redis (0.5 s); 503 with the failing check under ' +
      '`error` when either does not answer in time.',
  })
  @ApiOkResponse({ description: 'Ready', schema: HEALTH_SCHEMA, example: READY_EXAMPLE })
  @ApiServiceUnavailableResponse({
    description: 'Postgres or Redis unreachable',
    schema: HEALTH_SCHEMA,
    example: NOT_READY_EXAMPLE,
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    const answer = await this.checks.ready();
    void reply.status(answer.statusCode);
    return answer.body;
  }
}
