import { Module } from '@nestjs/common';
import { CoreModule } from '../core.module';
import { RoutesApplier } from './routes-applier';

/** Routes as code: the applier, for `routes:apply` and for the API role's apply at boot. */
@Module({
  imports: [CoreModule],
  providers: [RoutesApplier],
  exports: [RoutesApplier],
})
export class RoutesAsCodeModule {}
