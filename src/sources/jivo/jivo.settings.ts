import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsNotEmpty, IsOptional, IsString } from 'class-validator';
import { ReplyEnrichmentSettings, SourceSettingsDeclaration } from '../source-settings';

export class JivoSettings extends ReplyEnrichmentSettings {
  @ApiPropertyOptional({
    type: [String],
    example: ['3948'],
    maxItems: 1000,
    description: 'The `widget_id`s accepted on this source; empty or absent accepts all',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  allowedChannelIds: string[] = [];
}

export const JIVO_SETTINGS: SourceSettingsDeclaration<JivoSettings> = { type: JivoSettings };
