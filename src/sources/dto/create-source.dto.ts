import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

/**
 * The fields every source has. Each kind's own settings (its plug-in's `settings`) sit beside
 * them in the same body; the OpenAPI document lists them from the plug-ins.
 */
export class CreateSourceDto {
  @ApiProperty({
    example: 'jivo',
    description: 'The plug-in kind: `jivo`, `jivo-bot`, `chatwoot` (GET /api/sources/kinds)',
  })
  @IsString()
  @IsNotEmpty()
  kind: string;

  @ApiProperty({ example: 'Jivo main site', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;
}
