import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ApiModule } from './api.module';
import type { Logger } from 'pino';
import { nestLoggerParams } from './common/logging';
import { Settings } from './config/settings';
import { SettingsModule } from './config/settings.module';
import { WorkerModule } from './worker.module';

@Module({})
export class AppModule {
  /** `all` runs both roles in one process; `api` and `worker` run one each. */
  static forSettings(settings: Settings, logger: Logger): DynamicModule {
    const roles = {
      all: [ApiModule, WorkerModule],
      api: [ApiModule],
      worker: [WorkerModule],
    }[settings.APP_ROLE];
    return {
      module: AppModule,
      imports: [
        SettingsModule.forRoot(settings),
        LoggerModule.forRoot(nestLoggerParams(logger)),
        ...roles,
      ],
    };
  }
}
