import { Provider, Type } from '@nestjs/common';
import { ChatwootNormalizer } from './chatwoot/chatwoot.normalizer';
import { JivoNormalizer } from './jivo/jivo.normalizer';
import { JivoBotNormalizer } from './jivo-bot/jivo-bot.normalizer';
import { SOURCE_NORMALIZERS, SourceNormalizer } from './source-normalizer';

/** Every source kind the router understands. Adding a source: its folder, and one line here. */
export const SOURCE_PLUGINS: Type<SourceNormalizer>[] = [
  JivoNormalizer,
  ChatwootNormalizer,
  JivoBotNormalizer,
];

export const SOURCE_PLUGIN_PROVIDERS: Provider[] = [
  ...SOURCE_PLUGINS,
  {
    provide: SOURCE_NORMALIZERS,
    useFactory: (...plugins: SourceNormalizer[]) => plugins,
    inject: SOURCE_PLUGINS,
  },
];
