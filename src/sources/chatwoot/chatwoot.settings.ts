import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, IsUrl, Matches, MaxLength } from 'class-validator';
import { SourceSettingsDeclaration } from '../source-settings';

export class ChatwootSettings {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '3vQmZ8kT1xYp9cRw5nLb7HsD',
    maxLength: 500,
    writeOnly: true,
    description:
      "The webhook's secret; requests must then carry a valid signature. Shown in the create " +
      'answer only (later reads say `hasSigningSecret`); null stops requiring signatures.',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  signingSecret: string | null = null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'X-Konversio',
    pattern: '^[A-Za-z0-9-]{1,64}$',
    description: 'Header prefix a rebranded fork uses instead of `X-Chatwoot`; null: `X-Chatwoot`',
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9-]{1,64}$/, {
    message: 'signatureHeaderPrefix may hold letters, digits and -',
  })
  signatureHeaderPrefix: string | null = null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'https://app.chatwoot.com',
    format: 'uri',
    maxLength: 2000,
    description:
      'Where the account’s application API lives (the action API answers through it); null: ' +
      'no actions',
  })
  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'apiBaseUrl must be an http(s) URL' },
  )
  @MaxLength(2000)
  apiBaseUrl: string | null = null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '1',
    pattern: '^[0-9]{1,20}$',
    description: 'The Chatwoot account id of the conversations (the `{account_id}` of its API)',
  })
  @IsOptional()
  @Matches(/^[0-9]{1,20}$/, { message: 'apiAccountId must be a number' })
  apiAccountId: string | null = null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'kT1xYp9cRw5nLb7HsD3vQmZ8',
    maxLength: 500,
    writeOnly: true,
    description:
      "An `api_access_token`: an agent bot's (answers as the bot, hands off) or a user's. A " +
      'credential: never shown back (reads say `hasApiAccessToken`); null stops answering.',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  apiAccessToken: string | null = null;
}

export const CHATWOOT_SETTINGS: SourceSettingsDeclaration<ChatwootSettings> = {
  type: ChatwootSettings,
  secrets: ['signingSecret', 'apiAccessToken'],
  writeOnly: ['apiAccessToken'],
  targets: ['apiBaseUrl'],
};
