import { Injectable } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import type { CanonicalEvent } from '../canonical/canonical-event';
import { CANONICAL_EVENT_TYPES } from '../canonical/canonical-event';
import { buildSampleEvent } from '../canonical/sample-event';
import { AppError, notFound } from '../common/app-error';
import { EXAMPLE_IDS } from '../common/openapi-examples';
import { Settings } from '../config/settings';
import { TransformSandboxPool } from '../delivery/transform-sandbox';
import { compileContentFilter, contentFilterProblems } from '../policies/content-filter';
import {
  MAX_TRANSFORM_BYTES,
  TransformError,
  transformProblems,
} from '../policies/payload-transform';
import { EventsRepository } from './events.repository';

export class PlaygroundRequestDto {
  @ApiPropertyOptional({
    description: 'A JSONata expression, run on the event as a subscription’s transform is',
    example: '{"text": message.text, "from": contact.name}',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TRANSFORM_BYTES)
  transform?: string;

  @ApiPropertyOptional({
    description: 'A content filter, tested on the event as a subscription’s filter is',
    example: { 'message.text': { $regex: 'hello', $options: 'i' } },
    type: Object,
  })
  @IsOptional()
  @ValidateIf((_dto, value) => value !== null)
  @IsObject()
  filter?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'A stored event to run them on; absent: a sample event of `eventType`',
    example: EXAMPLE_IDS.event,
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  eventId?: string;

  @ApiPropertyOptional({
    description: 'The sample event’s type when no eventId is given (default message.created)',
    enum: CANONICAL_EVENT_TYPES,
  })
  @IsOptional()
  @IsIn(CANONICAL_EVENT_TYPES, { message: 'eventType must be a canonical event type' })
  eventType?: string;
}

export class PlaygroundFilterResult {
  @ApiProperty({ description: 'Whether the event passes; null when the filter is invalid' })
  matched: boolean | null;

  @ApiProperty({ nullable: true, type: String, example: null })
  error: string | null;
}

export class PlaygroundTransformResult {
  @ApiProperty({ description: 'The body the transform makes; null when it failed', type: Object })
  output: unknown;

  @ApiProperty({ nullable: true, type: String, example: null })
  error: string | null;

  @ApiProperty({ example: 4 })
  durationMs: number;
}

export class PlaygroundResult {
  @ApiProperty({ description: 'The event they ran on: the stored one or the sample', type: Object })
  event: CanonicalEvent;

  @ApiProperty({
    description: 'Whether it came from storage or is a sample',
    enum: ['stored', 'sample'],
  })
  input: 'stored' | 'sample';

  @ApiProperty({ type: PlaygroundFilterResult, nullable: true })
  filter: PlaygroundFilterResult | null;

  @ApiProperty({ type: PlaygroundTransformResult, nullable: true })
  transform: PlaygroundTransformResult | null;
}

/**
 * `POST /api/playground`: a filter and a transform tried on an event, as delivery would run
 * them (the transform in the same sandboxes, with the same budget), nothing stored or sent.
 * What the expressions get wrong is part of the answer, not a 400: trying is the point.
 */
@Injectable()
export class Playground {
  constructor(
    private readonly events: EventsRepository,
    private readonly sandboxes: TransformSandboxPool,
    private readonly settings: Settings,
  ) {}

  async run(request: PlaygroundRequestDto): Promise<PlaygroundResult> {
    const { event, input } = await this.eventFor(request);
    return {
      event,
      input,
      filter: request.filter ? tryFilter(request.filter, event) : null,
      transform:
        request.transform !== undefined ? await this.tryTransform(request.transform, event) : null,
    };
  }

  private async eventFor(
    request: PlaygroundRequestDto,
  ): Promise<{ event: CanonicalEvent; input: 'stored' | 'sample' }> {
    if (!request.eventId) {
      const sample = buildSampleEvent('evt_playground', request.eventType ?? 'message.created');
      return { event: sample.canonical, input: 'sample' };
    }
    const stored = await this.events.findById(request.eventId);
    if (!stored) throw notFound(`Event ${request.eventId}`);
    if (!stored.canonical) {
      throw new AppError(
        'conflict',
        `Event ${request.eventId} could not be normalized (${stored.error}); it has no canonical form to try`,
      );
    }
    return { event: stored.canonical, input: 'stored' };
  }

  private async tryTransform(
    expression: string,
    event: CanonicalEvent,
  ): Promise<PlaygroundTransformResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const problems = transformProblems(expression);
    if (problems.length) return { output: null, error: problems.join('; '), durationMs: 0 };
    try {
      const body = await this.sandboxes.run(expression, JSON.stringify(event), {
        timeoutMs: this.settings.TRANSFORM_TIMEOUT_MS,
        maxOutputBytes: this.settings.TRANSFORM_MAX_OUTPUT_BYTES,
        maxDepth: 200,
      });
      return { output: JSON.parse(body) as unknown, error: null, durationMs: elapsed() };
    } catch (error) {
      if (!(error instanceof TransformError)) throw error;
      return { output: null, error: error.message, durationMs: elapsed() };
    }
  }
}

function tryFilter(filter: Record<string, unknown>, event: CanonicalEvent): PlaygroundFilterResult {
  const problems = contentFilterProblems(filter);
  if (problems.length) return { matched: null, error: problems.join('; ') };
  return { matched: compileContentFilter(filter)(event), error: null };
}
