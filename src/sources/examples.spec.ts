import * as fs from 'fs';
import * as path from 'path';
import { JsonRecord } from '../canonical/coerce';
import { SourceNormalizer } from './source-normalizer';
import { SOURCE_PLUGINS } from './source-plugins';

/** The bodies the README and docs/adding-a-source.md post with curl: examples/webhooks/<kind>/. */
const EXAMPLES_ROOT = path.resolve(__dirname, '../../examples/webhooks');

const normalizers = new Map<string, SourceNormalizer>(
  SOURCE_PLUGINS.map((Plugin) => {
    const normalizer = new Plugin();
    return [normalizer.kind, normalizer];
  }),
);

const examples = fs
  .readdirSync(EXAMPLES_ROOT)
  .flatMap((kind) =>
    fs.readdirSync(path.join(EXAMPLES_ROOT, kind)).map((file) => [kind, file] as const),
  );

it('has examples for the kinds the walk-throughs use', () => {
  expect(new Set(examples.map(([kind]) => kind))).toEqual(new Set(['jivo', 'jivo-bot']));
});

it.each(examples)('examples/webhooks/%s/%s is a known kind and normalizes', (kind, file) => {
  const normalizer = normalizers.get(kind);
  expect(normalizer).toBeDefined();
  const payload = JSON.parse(
    fs.readFileSync(path.join(EXAMPLES_ROOT, kind, file), 'utf8'),
  ) as JsonRecord;

  const result = normalizer!.normalize(payload, { sourceId: 'src_example', kind });

  expect(result.status).toBe('ok');
  expect(result.status === 'ok' && result.event.type).not.toBe('source.unknown');
});
