import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { isRecord, JsonRecord } from '../../canonical/coerce';
import { AppError } from '../../common/app-error';
import {
  BODY_VALIDATION,
  FieldProblem,
  validationProblems,
} from '../../common/validation-problems';
import { SourceSettingsDeclaration } from '../source-settings';
import { settingsProblems } from '../source-settings-rules';
import { CreateSourceDto } from './create-source.dto';
import { UpdateSourceDto } from './update-source.dto';

/** A source as a create body (or a routes file entry) declares it. */
export interface SourceDefinition {
  kind: string;
  name: string;
  /** The kind's settings given; null or absent: the default. */
  settings: JsonRecord;
}

/** What an update body changes. */
export interface SourceChange {
  name?: string;
  settings: JsonRecord;
}

export type Checked<Value> =
  { value: Value; problems: [] } | { value: null; problems: FieldProblem[] };

/**
 * A create body's fields checked: the core by CreateSourceDto, the rest by the kind's plug-in.
 * An unknown kind has no rules for the rest: the service refuses the kind itself.
 */
export async function checkCreateBody(
  body: JsonRecord,
  settingsOf: (kind: string) => SourceSettingsDeclaration<object> | null,
): Promise<Checked<SourceDefinition>> {
  const { kind, name, ...settings } = body;
  const core = plainToInstance(CreateSourceDto, definedOnly({ kind, name }));
  const problems = validationProblems(await validate(core, BODY_VALIDATION));
  const declaration = typeof kind === 'string' ? settingsOf(kind) : null;
  if (declaration) problems.push(...(await settingsProblems(declaration, settings)));
  return problems.length > 0
    ? { value: null, problems }
    : { value: { kind: core.kind, name: core.name, settings }, problems: [] };
}

/** An update body's fields checked against the source's kind. */
export async function checkUpdateBody(
  body: JsonRecord,
  declaration: SourceSettingsDeclaration<object>,
): Promise<Checked<SourceChange>> {
  const { name, ...settings } = body;
  const core = plainToInstance(UpdateSourceDto, definedOnly({ name }));
  const problems = [
    ...validationProblems(await validate(core, BODY_VALIDATION)),
    ...(await settingsProblems(declaration, settings)),
  ];
  return problems.length > 0
    ? { value: null, problems }
    : {
        value: { ...(core.name === undefined ? {} : { name: core.name }), settings },
        problems: [],
      };
}

/** A request body must be a JSON object; the global ValidationPipe does not see these bodies. */
export function bodyRecord(body: unknown): JsonRecord {
  if (!isRecord(body)) throw new AppError('invalid_body', 'Body must be a JSON object');
  return body;
}

/** The problems as the admin API answers them (one message naming every field). */
export function invalidFields(problems: FieldProblem[]): AppError {
  const fields = problems.map((problem) => problem.field).join(', ');
  return new AppError('validation_failed', `Invalid fields: ${fields}`, problems);
}

function definedOnly(record: JsonRecord): JsonRecord {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
