import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { RedisHealthIndicator } from './redis.health';

const DATABASE_PING_TIMEOUT_MS = 1000;

export interface HealthAnswer {
  statusCode: 200 | 503;
  body: HealthCheckResult;
}

/**
 * The checks behind /health/live and /health/ready, shared by the API's controller and the
 * worker's health port. Terminus answers a failed check with a 503 exception; this returns its
 * body instead, so both servers send it as terminus made it.
 */
@Injectable()
export class HealthChecks {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  /** The process is up and its event loop turns: nothing to ask anyone else. */
  live(): Promise<HealthAnswer> {
    return this.run([]);
  }

  /** Postgres and Redis both answer. */
  ready(): Promise<HealthAnswer> {
    return this.run([
      () => this.database.pingCheck('database').withTimeout(DATABASE_PING_TIMEOUT_MS),
      () => this.redis.pingCheck('redis'),
    ]);
  }

  private async run(checks: Parameters<HealthCheckService['check']>[0]): Promise<HealthAnswer> {
    try {
      return { statusCode: 200, body: await this.health.check(checks) };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      return { statusCode: 503, body: error.getResponse() as HealthCheckResult };
    }
  }
}
