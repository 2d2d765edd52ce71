import type { OpenAPIObject } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { OpenApiExtension } from '../common/openapi';
import { CreateSourceDto } from './dto/create-source.dto';
import { SourceResponse } from './dto/source.response';
import { UpdateSourceDto } from './dto/update-source.dto';
import { SourceRegistry } from './source-registry';
import { isSecretSetting, NO_SETTINGS, presenceField } from './source-settings-rules';

interface KindSetting {
  kind: string;
  field: string;
  schema: SchemaObject;
  secret: boolean;
}

/**
 * The source bodies and answers in the OpenAPI document, with each kind's settings as its
 * plug-in declares them: the plug-ins' settings classes become schemas of their own
 * (`JivoSettings`, …), and their fields are added beside `kind` and `name`, each saying
 * which kinds take it.
 */
export function sourceSettingsOpenApi(registry: SourceRegistry): OpenApiExtension {
  const declared = registry
    .kinds()
    .map((kind) => ({ kind, declaration: registry.settingsOf(kind) }))
    .filter(({ declaration }) => declaration !== NO_SETTINGS);
  return {
    extraModels: declared.map(({ declaration }) => declaration.type),
    amend(document: OpenAPIObject) {
      const schemas = (document.components?.schemas ?? {}) as Record<string, SchemaObject>;
      const settings: KindSetting[] = declared.flatMap(({ kind, declaration }) =>
        Object.entries(schemas[declaration.type.name]?.properties ?? {}).map(([field, schema]) => ({
          kind,
          field,
          schema: schema as SchemaObject,
          secret: isSecretSetting(declaration, field),
        })),
      );
      addProperties(schemas[CreateSourceDto.name], byField(settings));
      addProperties(schemas[UpdateSourceDto.name], byField(settings));
      addProperties(schemas[SourceResponse.name], byField(settings.flatMap(asShown)));
    },
  };
}

/** How a read shows a setting: a secret as `has<Name>`, and as itself in the create answer. */
function asShown(setting: KindSetting): KindSetting[] {
  if (!setting.secret) return [{ ...setting, schema: withoutWriteOnly(setting.schema) }];
  return [
    {
      ...setting,
      schema: {
        ...withoutWriteOnly(setting.schema),
        description: `${setting.field}: in the create answer only, when one was given`,
      },
    },
    {
      ...setting,
      field: presenceField(setting.field),
      schema: { type: 'boolean', example: false, description: `Whether a ${setting.field} is set` },
    },
  ];
}

function withoutWriteOnly(schema: SchemaObject): SchemaObject {
  const { writeOnly: _writeOnly, ...rest } = schema;
  return rest;
}

/** One property per field; a field several kinds take says which kind each description is of. */
function byField(settings: KindSetting[]): Map<string, SchemaObject> {
  const fields = new Map<string, KindSetting[]>();
  for (const setting of settings) {
    fields.set(setting.field, [...(fields.get(setting.field) ?? []), setting]);
  }
  return new Map(
    [...fields].map(([field, kinds]) => [
      field,
      {
        ...kinds[0].schema,
        description: kinds
          .map(({ kind, schema }) => `\`${kind}\`: ${schema.description ?? ''}`.trim())
          .join('\n\n'),
      },
    ]),
  );
}

function addProperties(schema: SchemaObject | undefined, properties: Map<string, SchemaObject>) {
  if (!schema) return;
  schema.properties = { ...schema.properties, ...Object.fromEntries(properties) };
}
