import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { JsonRecord } from '../canonical/coerce';
import { BODY_VALIDATION, FieldProblem, validationProblems } from '../common/validation-problems';
import { ReplyEnrichmentSettings, SourceSettingsDeclaration } from './source-settings';

type Declaration = SourceSettingsDeclaration<object>;

class NoSettings {}

/** What a kind whose plug-in declares no settings takes: nothing. */
export const NO_SETTINGS: Declaration = { type: NoSettings };

/** Where the router keeps the secret it made for enrichment requests, beside the settings. */
export const ENRICHMENT_SECRET = 'enrichmentSecret';

/** The names of a kind's settings, in the order its class declares them. */
export function settingFields(declaration: Declaration): string[] {
  return Object.keys(new declaration.type());
}

export function isSecretSetting(declaration: Declaration, field: string): boolean {
  return declaration.secrets?.includes(field) ?? false;
}

/** `signingSecret` → `hasSigningSecret`: how a read says a secret is set without showing it. */
export function presenceField(secret: string): string {
  return `has${secret[0].toUpperCase()}${secret.slice(1)}`;
}

/** Whether the kind's settings include the reply enrichment endpoint. */
export function takesEnrichment(declaration: Declaration): boolean {
  return declaration.type === ReplyEnrichmentSettings
    ? true
    : declaration.type.prototype instanceof ReplyEnrichmentSettings;
}

/** Every problem of the given settings, each under its field name (`allowedChannelIds`). */
export async function settingsProblems(
  declaration: Declaration,
  given: JsonRecord,
): Promise<FieldProblem[]> {
  const settings = plainToInstance(declaration.type, given);
  return validationProblems(await validate(settings, BODY_VALIDATION));
}

/** The settings stored for a source, each field absent or null given its default. */
export function resolvedSettings(declaration: Declaration, stored: JsonRecord): JsonRecord {
  const settings = { ...new declaration.type() } as JsonRecord;
  for (const field of Object.keys(settings)) {
    if (stored[field] !== undefined && stored[field] !== null) settings[field] = stored[field];
  }
  return settings;
}

/** What to store after `given` (validated) changes `stored`: null drops a field back to its default. */
export function mergedSettings(stored: JsonRecord, given: JsonRecord): JsonRecord {
  return Object.fromEntries(
    Object.entries({ ...stored, ...given }).filter(([, value]) => value !== null),
  );
}

/**
 * The settings as the admin API shows them: secrets replaced by `has<Name>`, and shown only
 * when `revealed` holds them (the create answer).
 */
export function presentedSettings(
  declaration: Declaration,
  stored: JsonRecord,
  revealed: JsonRecord = {},
): JsonRecord {
  const settings = resolvedSettings(declaration, stored);
  const presented: JsonRecord = {};
  for (const [field, value] of Object.entries(settings)) {
    if (!isSecretSetting(declaration, field)) {
      presented[field] = value;
      continue;
    }
    const writeOnly = declaration.writeOnly?.includes(field) ?? false;
    if (!writeOnly && revealed[field] !== undefined && revealed[field] !== null) {
      presented[field] = revealed[field];
    }
    presented[presenceField(field)] = value !== null;
  }
  return presented;
}
