import type { ModelPrice } from '../../core/usage/priceTypes';
import { activePriceBook, knownModels, PRICE_DATA, priceAt, type PriceResolution } from '../../core/usage/pricing';
import { terminalText } from '../../core/common/text';
import { PRICES_FILE } from '../../store/prices';
import type { Command } from '../command';
import { table } from '../format';
import { withLedger } from '../ledger';

interface ResolvedJson {
  model: string;
  priced: boolean;
  alias: string | null;
  matched: string | null;
  family: string | null;
  provider: string | null;
  origin: PriceResolution['origin'] | null;
  /** The price that applies today (USD per million tokens). */
  price: ModelPrice | null;
  /** Dated or time-of-day price changes the database knows for this model. */
  changes: number;
}

function resolved(model: string, now: number): ResolvedJson {
  const r = activePriceBook().resolve(model);
  if (!r)
    return {
      model,
      priced: false,
      alias: null,
      matched: null,
      family: null,
      provider: null,
      origin: null,
      price: null,
      changes: 0,
    };
  return {
    model,
    priced: true,
    alias: r.alias,
    matched: r.matched,
    family: r.family,
    provider: r.provider,
    origin: r.origin,
    price: priceAt(r.entry, now),
    changes: r.entry.changes?.length ?? 0,
  };
}

const usd = (v: number | undefined): string => (v === undefined ? '-' : `$${Number(v.toPrecision(6))}`);

function priceCells(p: ModelPrice): string[] {
  const tiers = (p.tiers ?? [])
    .map((t) => `>${t.above.toLocaleString('en-US')}: ${usd(t.input)}/${usd(t.output)}`)
    .join('; ');
  return [usd(p.input), usd(p.output), usd(p.cacheWrite), usd(p.cacheWrite1h), usd(p.cacheRead), tiers || '-'];
}

const HEADER = ['input', 'output', 'cache write 5m', 'cache write 1h', 'cache read', 'long context (in/out)'];

export const pricesCommand: Command = {
  name: 'prices',
  summary: 'the embedded price table: its version, the models it prices, and how a model name resolves',
  help: `Usage: outcome-ledger prices [--json] [MODEL…]

Without MODEL: the price table's version (the @pydantic/genai-prices database embedded in this build, plus the
hand-kept supplement and your ${PRICES_FILE}) and every model it prices, in USD per million tokens.
With MODEL (as a tool writes it, for example us.anthropic.claude-sonnet-4-5-20250929-v1:0): how each name resolves
(alias, the name matched, the price family and where its price comes from) and its price today. A name that does not
resolve is reported as unpriced (exit code 1): give it an alias or an override in ${PRICES_FILE} (docs/measurement.md).

  --json        print JSON`,
  examples: [
    ['outcome-ledger prices claude-sonnet-4-5', 'the price of a model, and the table version'],
    ['outcome-ledger prices us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'how a Bedrock id resolves'],
  ],
  options: { json: { type: 'boolean' } },
  positionals: true,
  async run(p, io) {
    return withLedger(p, io, (ledger) => {
      const book = activePriceBook();
      const version = {
        version: book.version,
        database: PRICE_DATA,
        localConfig: book.hasLocalConfig ? `${ledger.paths.home}/${PRICES_FILE}` : null,
      };
      const now = Date.now();
      if (p.positionals.length > 0) {
        const list = p.positionals.map((m) => resolved(m, now));
        if (p.values.json) io.out(JSON.stringify({ ...version, models: list }, null, 2));
        else {
          io.out(
            `Price table ${version.version} (${PRICE_DATA.package} ${PRICE_DATA.version}, generated ${PRICE_DATA.generated})`,
          );
          for (const r of list) {
            const name = terminalText(r.model);
            if (!r.priced || !r.price) {
              io.out(`${name}: unpriced (not in the table: add an alias or an override in ${PRICES_FILE})`);
              continue;
            }
            const via = [
              r.alias ? `alias of ${terminalText(r.alias)}` : '',
              r.matched !== r.model.trim().toLowerCase() ? `matched as ${terminalText(r.matched ?? '')}` : '',
            ].filter(Boolean);
            io.out(
              `${name} → ${r.family} (${r.origin === 'database' ? `${r.provider}, ${PRICE_DATA.package}` : r.origin}${via.length ? `; ${via.join(', ')}` : ''})`,
            );
            const cells = priceCells(r.price);
            io.out(
              `  ${HEADER.map((h, i) => `${h} ${cells[i]}`).join(' · ')}${r.changes > 0 ? ` · ${r.changes} dated price change(s): each request is priced at its own time` : ''}`,
            );
          }
        }
        return list.every((r) => r.priced) ? 0 : 1;
      }
      const models = knownModels().map(({ provider, model, origin }) => ({
        provider,
        family: model.id,
        origin,
        price: priceAt(model, now),
        changes: model.changes?.length ?? 0,
      }));
      if (p.values.json) {
        io.out(JSON.stringify({ ...version, models }, null, 2));
        return 0;
      }
      io.out(
        `Price table ${version.version}: ${PRICE_DATA.package} ${PRICE_DATA.version} (generated ${PRICE_DATA.generated}), ${models.length} models, USD per million tokens.`,
      );
      if (version.localConfig) io.out(`Your aliases and overrides from ${version.localConfig} apply.`);
      io.out('');
      io.out(
        table(
          ['provider/model', ...HEADER],
          models.map((m) => [`${m.provider}/${m.family}`, ...priceCells(m.price)]),
        ),
      );
      return 0;
    });
  },
};
