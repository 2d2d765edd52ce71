import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
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
}

export const CHATWOOT_SETTINGS: SourceSettingsDeclaration<ChatwootSettings> = {
  type: ChatwootSettings,
  secrets: ['signingSecret'],
};
