import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { ApiAdminAuth, ApiQueueUnavailableResponse } from '../common/openapi';
import { FailedIngestJobs } from './failed-ingest-jobs';
import { QueueStats } from './queue-stats';

class JobCountsView {
  @ApiProperty({ example: 3 })
  waiting: number;

  @ApiProperty({ example: 1 })
  active: number;

  @ApiProperty({ description: 'Waiting for a retry or a rate-limit slot', example: 12 })
  delayed: number;

  @ApiProperty({ description: 'Kept 30 days (ingest) for inspection', example: 0 })
  failed: number;

  @ApiProperty({ description: 'Recently completed jobs still kept', example: 950 })
  completed: number;

  @ApiProperty({ example: 0 })
  paused: number;

  @ApiProperty({ example: 0 })
  prioritized: number;
}

class QueueView {
  @ApiProperty({ enum: ['ingest', 'delivery'], example: 'delivery' })
  name: string;

  @ApiProperty({ type: JobCountsView })
  counts: JobCountsView;
}

export class QueueListResponse {
  @ApiProperty({ type: [QueueView] })
  queues: QueueView[];
}

export class IngestRetryResponse {
  @ApiProperty({ description: 'Failed ingest jobs moved back to waiting', example: 3 })
  retried: number;
}

const EXAMPLE: QueueListResponse = {
  queues: [
    {
      name: 'ingest',
      counts: {
        waiting: 0,
        active: 1,
        delayed: 0,
        failed: 0,
        completed: 1204,
        paused: 0,
        prioritized: 0,
      },
    },
    {
      name: 'delivery',
      counts: {
        waiting: 3,
        active: 5,
        delayed: 12,
        failed: 0,
        completed: 950,
        paused: 0,
        prioritized: 0,
      },
    },
  ],
};

@ApiTags('operations')
@ApiAdminAuth()
@Controller('api/queues')
export class QueuesController {
  constructor(
    private readonly stats: QueueStats,
    private readonly failedIngestJobs: FailedIngestJobs,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Jobs per queue and state',
    description:
      'Read from Redis now. `ingest` holds received webhooks not yet stored; `delivery` holds ' +
      'deliveries to send (delayed: waiting for a retry). The dashboard (read-only) is at ' +
      '/admin/queues.',
  })
  @ApiOkResponse({ type: QueueListResponse, example: EXAMPLE })
  @ApiQueueUnavailableResponse('Redis did not answer in time')
  async list(): Promise<QueueListResponse> {
    return { queues: await this.stats.counts() };
  }

  @Post('ingest/retry')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Retry the failed ingest jobs',
    description:
      'An ingest job fails for good after 15 attempts to store its webhook (Postgres down for ' +
      'long); it still holds the raw body. Once Postgres is back, this queues them all again, ' +
      'each with its 15 attempts.',
  })
  @ApiAcceptedResponse({ type: IngestRetryResponse, example: { retried: 3 } })
  async retryFailedIngest(): Promise<IngestRetryResponse> {
    return { retried: await this.failedIngestJobs.retryAll() };
  }
}
