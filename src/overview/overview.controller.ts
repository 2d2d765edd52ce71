import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ApiAdminAuth, ApiErrorResponse } from '../common/openapi';
import { ERROR_EXAMPLES } from '../common/openapi-examples';
import { OverviewService } from './overview.service';
import { ActivityOverview, OVERVIEW_WINDOWS, OverviewWindow } from './overview.response';

export class OverviewQueryDto {
  @ApiPropertyOptional({ enum: OVERVIEW_WINDOWS, default: 'hour' })
  @IsOptional()
  @IsIn(OVERVIEW_WINDOWS)
  window?: OverviewWindow;
}

@ApiTags('operations')
@ApiAdminAuth()
@Controller('api/overview')
export class OverviewController {
  constructor(private readonly overview: OverviewService) {}

  @Get()
  @ApiOperation({
    summary:
      'Events received and deliveries by outcome over the last hour or day, failing and disabled subscriptions',
  })
  @ApiOkResponse({ type: ActivityOverview })
  @ApiErrorResponse(400, 'A bad query parameter', ERROR_EXAMPLES.validationFailed)
  get(@Query() query: OverviewQueryDto): Promise<ActivityOverview> {
    return this.overview.overview(query.window ?? 'hour');
  }
}
