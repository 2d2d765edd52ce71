import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { ACTION_STATUSES, ActionConversationStatus } from '../../sources/source-actions';

export class ActionButtonDto {
  @ApiProperty({
    example: 'operator',
    maxLength: 100,
    description: 'What comes back when the contact presses it',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  id: string;

  @ApiProperty({ example: 'Talk to a person', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  text: string;
}

export class MessageActionDto {
  @ApiProperty({ example: 'Our opening hours are 9:00–18:00. Anything else?', maxLength: 4096 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(4096)
  text: string;

  @ApiPropertyOptional({
    type: [ActionButtonDto],
    maxItems: 20,
    example: [
      { id: 'hours', text: 'Opening hours' },
      { id: 'operator', text: 'Talk to a person' },
    ],
    description: 'Quick replies (Jivo `BUTTONS`, Chatwoot `input_select`)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => ActionButtonDto)
  buttons?: ActionButtonDto[];

  @ApiPropertyOptional({
    example: false,
    description: 'A private note, seen by agents only (where the platform has them)',
  })
  @IsOptional()
  @IsBoolean()
  private?: boolean;
}

export class HandoffActionDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '12',
    maxLength: 100,
    description: 'The agent to hand to (platform id); absent: whoever takes it',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  agentId?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '3',
    maxLength: 100,
    description: 'The team to hand to (platform id)',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  teamId?: string | null;
}

export class StatusActionDto {
  @ApiProperty({ enum: ACTION_STATUSES, example: 'resolved' })
  @IsIn(ACTION_STATUSES)
  status: ActionConversationStatus;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2026-04-17T09:00:00.000Z',
    description: 'With `snoozed`: until when',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  snoozedUntil?: string;
}

export class AssigneeActionDto extends HandoffActionDto {}

export class LabelsActionDto {
  @ApiProperty({
    type: [String],
    maxItems: 100,
    example: ['faq', 'bot'],
    description: "The conversation's labels from now on (replaces them)",
  })
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(100, { each: true })
  labels: string[];
}

export class TypingActionDto {
  @ApiProperty({ example: true, description: 'true: typing… shows; false: it stops' })
  @IsBoolean()
  on: boolean;
}
