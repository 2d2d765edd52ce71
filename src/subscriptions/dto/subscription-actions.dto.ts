import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { SIGNING_SECRET_PATTERN } from './create-subscription.dto';

export class RotateSecretDto {
  @ApiPropertyOptional({
    description: 'The new `whsec_` secret; one is generated when absent.',
    example: 'whsec_2Q8ivTCdnzJbQxAQzXmI3ouvlJbVtCVd',
  })
  @IsOptional()
  @Matches(SIGNING_SECRET_PATTERN, {
    message: 'secret must be whsec_ followed by at least 24 bytes of base64',
  })
  secret?: string;

  @ApiPropertyOptional({
    description:
      'Seconds the old secret keeps signing beside the new one, so receivers can switch over (default 86400; 0 ends it now).',
    example: 86400,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  graceSeconds?: number;
}
