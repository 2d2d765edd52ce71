import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAdminAuth } from '../common/openapi';
import {
  InvalidSubscription,
  SubscriptionNotFound,
} from '../subscriptions/subscriptions.controller';
import { TestSubscriptionDto } from './dto/test-send.request';
import { TestSendResult } from './dto/test-send.response';
import { TestSend } from './test-send';

/** A subscription's test send: under its path, but a delivery attempt, so it lives here. */
@ApiTags('subscriptions')
@ApiAdminAuth()
@Controller('api/subscriptions')
export class TestSendController {
  constructor(private readonly testSend: TestSend) {}

  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a sample event now and return the attempt outcome (nothing stored)',
  })
  @ApiBody({
    type: TestSubscriptionDto,
    required: false,
    examples: { default: { value: { eventType: 'message.created' } } },
  })
  @ApiOkResponse({ type: TestSendResult })
  @InvalidSubscription
  @SubscriptionNotFound
  test(@Param('id') id: string, @Body() dto: TestSubscriptionDto): Promise<TestSendResult> {
    return this.testSend.send(id, dto ?? {});
  }
}
