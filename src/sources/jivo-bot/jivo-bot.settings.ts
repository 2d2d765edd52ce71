import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  MaxLength,
} from 'class-validator';
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

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'https://bot.jivosite.com/webhooks/<provider_id>/<token>',
    format: 'uri',
    maxLength: 2000,
    writeOnly: true,
    description:
      "Jivo's Bot API endpoint for this bot (`…/webhooks/{provider_id}/{token}`): where the " +
      'action API sends `BOT_MESSAGE` and `INVITE_AGENT`. A credential: never shown back (reads ' +
      'say `hasBotApiEndpoint`); null stops answering.',
  })
  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'botApiEndpoint must be an http(s) URL' },
  )
  @MaxLength(2000)
  botApiEndpoint: string | null = null;
}

export const JIVO_BOT_SETTINGS: SourceSettingsDeclaration<JivoBotSettings> = {
  type: JivoBotSettings,
  secrets: ['botApiEndpoint'],
  writeOnly: ['botApiEndpoint'],
  targets: ['botApiEndpoint'],
};
