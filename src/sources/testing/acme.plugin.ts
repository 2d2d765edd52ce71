import { Injectable } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { JsonRecord } from '../../canonical/coerce';
import {
  InboundRequest,
  NormalizeContext,
  NormalizeResult,
  SourceNormalizer,
  VerificationResult,
} from '../source-normalizer';
import { ConfiguredSource, SourceSettingsDeclaration } from '../source-settings';

/**
 * A test-only source kind with settings of its own (docs/adding-a-source.md): a region its
 * requests must come from and a secret key they must carry. Registered only by specs.
 */
export class AcmeSettings {
  @ApiPropertyOptional({
    enum: ['eu', 'us'],
    example: 'eu',
    description: 'The Acme region of the account; requests from another are refused',
  })
  @IsOptional()
  @IsIn(['eu', 'us'])
  apiRegion: 'eu' | 'us' = 'us';

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'acme_live_9f2c',
    maxLength: 200,
    writeOnly: true,
    description: 'The key Acme sends in `x-acme-key`',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  apiKey: string | null = null;
}

export const ACME_SETTINGS: SourceSettingsDeclaration<AcmeSettings> = {
  type: AcmeSettings,
  secrets: ['apiKey'],
};

@Injectable()
export class AcmeNormalizer implements SourceNormalizer<AcmeSettings> {
  readonly kind = 'acme';
  readonly settings = ACME_SETTINGS;

  verify(
    request: InboundRequest,
    { settings }: ConfiguredSource<AcmeSettings>,
  ): VerificationResult {
    const region = request.headers['x-acme-region'];
    if (region !== settings.apiRegion) {
      return { ok: false, reason: `region ${String(region)} is not ${settings.apiRegion}` };
    }
    if (settings.apiKey !== null && request.headers['x-acme-key'] !== settings.apiKey) {
      return { ok: false, reason: 'wrong x-acme-key' };
    }
    return { ok: true };
  }

  deliveryId(): string | null {
    return null;
  }

  normalize(payload: JsonRecord, context: NormalizeContext): NormalizeResult {
    return { status: 'unprocessable', reason: `acme (${context.sourceId}) maps nothing` };
  }

  acceptedResponse(eventId: string): unknown {
    return { status: 'accepted', eventId };
  }
}
