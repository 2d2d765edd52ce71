import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * Every field optional; null puts a setting back to its default. The kind and token never
 * change here. The kind's settings sit beside `name`, as in the create body.
 */
export class UpdateSourceDto {
  @ApiPropertyOptional({ example: 'Jivo main site (EU)', maxLength: 200 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;
}
