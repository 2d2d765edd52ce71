import { Controller, Get, Param, Query } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsString } from 'class-validator';
import { PageQuery } from '../common/pagination';
import { EventsService } from './events.service';

export class EventListQueryDto extends PageQuery {
  @IsOptional()
  @IsString()
  type?: string;

  @IsOptional()
  @IsString()
  sourceId?: string;

  @IsOptional()
  @IsString()
  conversationKey?: string;

  @IsOptional()
  @IsIn(['routed', 'unprocessable'])
  status?: string;

  @IsOptional()
  @Type(() => Date)
  @IsDate()
  since?: Date;

  @IsOptional()
  @Type(() => Date)
  @IsDate()
  until?: Date;
}

@Controller('api/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  list(@Query() query: EventListQueryDto) {
    return this.events.list(query);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.events.get(id);
  }
}
