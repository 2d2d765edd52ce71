import { Controller, Get, Param, Query } from '@nestjs/common';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { PageQuery } from '../common/pagination';
import { DeliveriesService } from './deliveries.service';
import { DELIVERY_STATUSES, DeliveryStatus } from './delivery.entity';

export class DeliveryListQueryDto extends PageQuery {
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @IsOptional()
  @IsString()
  subscriptionId?: string;

  @IsOptional()
  @IsString()
  eventId?: string;
}

@Controller('api/deliveries')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get()
  list(@Query() query: DeliveryListQueryDto) {
    return this.deliveries.list(query);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.deliveries.get(id);
  }
}
