import { Inject, Injectable } from '@nestjs/common';
import { JsonRecord } from '../canonical/coerce';
import { boundEventDepth } from '../canonical/depth-bound';
import {
  NormalizeContext,
  NormalizeResult,
  SOURCE_NORMALIZERS,
  SourceNormalizer,
} from './source-normalizer';
import { SourceSettingsDeclaration } from './source-settings';
import {
  ENRICHMENT_SECRET,
  NO_SETTINGS,
  isSecretSetting,
  presenceField,
  settingFields,
} from './source-settings-rules';

/** Fields of the admin API's source bodies and answers that a plug-in's setting cannot be. */
const CORE_FIELDS = new Set([
  'id',
  'kind',
  'name',
  'url',
  'token',
  'tokenHint',
  'managed',
  'createdAt',
  'updatedAt',
  'settings',
  ENRICHMENT_SECRET,
]);

/** Looks source plug-ins up by kind. */
@Injectable()
export class SourceRegistry {
  private readonly byKind = new Map<string, SourceNormalizer>();

  constructor(@Inject(SOURCE_NORMALIZERS) normalizers: SourceNormalizer[]) {
    for (const normalizer of normalizers) {
      if (this.byKind.has(normalizer.kind)) {
        throw new Error(`Two source plug-ins claim the kind "${normalizer.kind}"`);
      }
      assertOwnFields(normalizer);
      this.byKind.set(normalizer.kind, normalizer);
    }
  }

  /** The settings a source of this kind takes (none for an unknown kind). */
  settingsOf(kind: string): SourceSettingsDeclaration<object> {
    return this.byKind.get(kind)?.settings ?? NO_SETTINGS;
  }

  get(kind: string): SourceNormalizer | undefined {
    return this.byKind.get(kind);
  }

  kinds(): string[] {
    return [...this.byKind.keys()];
  }

  /**
   * Normalizers promise never to throw; this keeps a broken one from losing the event anyway.
   * What they copy from the payload is cut at CANONICAL_MAX_DEPTH, whatever the plug-in.
   */
  normalize(kind: string, payload: JsonRecord, context: NormalizeContext): NormalizeResult {
    const normalizer = this.byKind.get(kind);
    if (!normalizer) return { status: 'unprocessable', reason: `no plug-in for kind "${kind}"` };
    try {
      const result = normalizer.normalize(payload, context);
      return result.status === 'ok'
        ? { status: 'ok', event: boundEventDepth(result.event) }
        : result;
    } catch (error) {
      return {
        status: 'unprocessable',
        reason: `normalizer failed: ${(error as Error)?.message ?? String(error)}`,
      };
    }
  }
}

function assertOwnFields(normalizer: SourceNormalizer): void {
  const declaration = normalizer.settings ?? NO_SETTINGS;
  for (const field of settingFields(declaration)) {
    const shown = isSecretSetting(declaration, field) ? [field, presenceField(field)] : [field];
    const taken = shown.find((name) => CORE_FIELDS.has(name));
    if (taken) {
      throw new Error(`The source plug-in "${normalizer.kind}" has a setting named "${taken}"`);
    }
  }
}
