import type { ApiPropertyOptions } from '@nestjs/swagger';

/** How the read models say that an object is declared in the routes file (routes as code). */
export interface ManagedByRoutesFile {
  by: 'routes-file';
  /** Its key in the routes file. */
  key: string;
}

/** Inline rather than a $ref: OpenAPI 3.0 cannot make a referenced schema nullable. */
export const MANAGED_PROPERTY: ApiPropertyOptions = {
  type: 'object',
  nullable: true,
  required: ['by', 'key'],
  properties: {
    by: { type: 'string', enum: ['routes-file'] },
    key: { type: 'string', description: 'Its key in the routes file', example: 'jivo-main' },
  },
  example: null,
  description:
    'Set when the routes file (config/routes.yaml) declares it: `npm run routes:apply` makes it ' +
    'match the file again, undoing changes made through this API. null: made through this API.',
};

export function managedBy(routesKey: string | null): ManagedByRoutesFile | null {
  return routesKey === null ? null : { by: 'routes-file', key: routesKey };
}
