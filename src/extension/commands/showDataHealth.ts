import { dataHealth, renderHealth, type DataHealth } from '../../services/health';
import type { CommandDeps } from './deps';

/** "Show Data Health": what each source holds, where it was looked for and what was rejected, in a Markdown tab. */
export async function showDataHealth({ model, documents }: CommandDeps): Promise<DataHealth | undefined> {
  const ledger = await model.get();
  if (!ledger) return undefined;
  ledger.refresh();
  const s = model.currentSettings;
  const health = dataHealth(ledger.database, ledger.paths.file, {
    env: process.env,
    extra: s.extra,
    disabled: s.disabled,
  });
  await documents.show('Data Health.md', renderHealth(health), 'markdown', true);
  return health;
}
