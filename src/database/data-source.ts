import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadSettings } from '../config/settings';
import { dataSourceOptions } from './data-source-options';

/** Used by the TypeORM CLI only: `npm run migration:run`. */
export default new DataSource(dataSourceOptions(loadSettings()));
