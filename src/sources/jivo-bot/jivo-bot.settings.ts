import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsNotEmpty, IsOptional, IsString } from 'class-validator';
import { SourceSettingsDeclaration } from '../source-settings';

export class JivoBotSettings {
  @ApiPropertyOptional({
    type: [String],
    example: ['123456'],
    maxItems: 1000,
    description:
      'The accounts (`site_id`) or channels (`channel.id`) accepted on this source; empty or ' +
      'absent accepts all',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  allowedChannelIds: string[] = [];
}

export const JIVO_BOT_SETTINGS: SourceSettingsDeclaration<JivoBotSettings> = {
  type: JivoBotSettings,
};
