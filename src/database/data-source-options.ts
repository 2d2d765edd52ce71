import { DataSourceOptions } from 'typeorm';
import { Settings } from '../config/settings';
import { ENTITIES, MIGRATIONS } from './entities';

export function dataSourceOptions(settings: Settings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.DATABASE_URL,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    extra: { max: settings.DATABASE_POOL_SIZE },
  };
}
