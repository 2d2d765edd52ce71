import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ApiModule } from './api.module';
import { LINE_LOGGER, Loggers, nestLoggerParams } from './common/logging';
import { Settings } from './config/settings';
import { SettingsModule } from './config/settings.module';
import { WorkerModule } from './worker.module';

@Module({})
export class AppModule {
  /** `all` runs both roles in one process; `api` and `worker` run one each. */
  static forSettings(settings: Settings, loggers: Loggers): DynamicModule {
    const roles = {
      all: [ApiModule, WorkerModule],
      api: [ApiModule],
      worker: [WorkerModule],
    }[settings.APP_ROLE];
    const lineLogger = { provide: LINE_LOGGER, useValue: loggers.lines };
    return {
      module: AppModule,
      global: true,
      imports: [
        SettingsModule.forRoot(settings),
        LoggerModule.forRoot(nestLoggerParams(loggers.app)),
        ...roles,
      ],
      providers: [lineLogger],
      exports: [lineLogger],
    };
  }
}
