import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAdminAuth, ApiErrorResponse } from '../common/openapi';
import { ERROR_EXAMPLES, EXAMPLE_IDS } from '../common/openapi-examples';
import { Playground, PlaygroundRequestDto, PlaygroundResult } from './playground';

@ApiTags('subscriptions')
@ApiAdminAuth()
@Controller('api/playground')
export class PlaygroundController {
  constructor(private readonly playground: Playground) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Try a transform and a filter on a stored or sample event, bounded as at delivery; nothing is stored or sent',
  })
  @ApiBody({
    type: PlaygroundRequestDto,
    examples: {
      sample: {
        summary: 'On a sample event',
        value: { transform: '{"text": message.text}', filter: { 'contact.name': 'Maria Test' } },
      },
      stored: {
        summary: 'On a stored event',
        value: { eventId: EXAMPLE_IDS.event, transform: '$keys($)' },
      },
    },
  })
  @ApiOkResponse({ type: PlaygroundResult })
  @ApiErrorResponse(400, 'A field of the wrong type', ERROR_EXAMPLES.validationFailed)
  @ApiErrorResponse(404, 'No event with this id', {
    ...ERROR_EXAMPLES.notFound,
    message: `Event ${EXAMPLE_IDS.event} not found`,
  })
  @ApiErrorResponse(409, 'The event was unprocessable: it has no canonical form', {
    statusCode: 409,
    error: 'conflict',
    message: `Event ${EXAMPLE_IDS.event} could not be normalized (body is not a JSON object); it has no canonical form to try`,
  })
  run(@Body() dto: PlaygroundRequestDto): Promise<PlaygroundResult> {
    return this.playground.run(dto);
  }
}
