import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { CreateSourceDto } from './dto/create-source.dto';
import { SourceResponse } from './dto/source.response';
import { UpdateSourceDto } from './dto/update-source.dto';
import { SourceRegistry } from './source-registry';
import { SourcesService } from './sources.service';

@Controller('api/sources')
export class SourcesController {
  constructor(
    private readonly sources: SourcesService,
    private readonly registry: SourceRegistry,
  ) {}

  @Post()
  create(@Body() dto: CreateSourceDto): Promise<SourceResponse> {
    return this.sources.create(dto);
  }

  @Get()
  async list(): Promise<{ data: SourceResponse[]; nextCursor: null }> {
    return { data: await this.sources.list(), nextCursor: null };
  }

  @Get('kinds')
  kinds(): { data: string[] } {
    return { data: this.registry.kinds() };
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<SourceResponse> {
    return this.sources.get(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: UpdateSourceDto): Promise<SourceResponse> {
    return this.sources.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.sources.remove(id);
  }

  @Post(':id/rotate-token')
  @HttpCode(200)
  rotateToken(@Param('id') id: string): Promise<SourceResponse> {
    return this.sources.rotateToken(id);
  }
}
