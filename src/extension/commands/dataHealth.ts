import { dataHealth, renderHealth } from '../../services/health';
import { CommandId } from './ids';
import type { Handlers, Shell } from './shell';

/** Show Data Health: the health of every source as a Markdown preview tab. */
export function dataHealthCommand({ model, documents }: Shell): Handlers<CommandId.showDataHealth> {
  return {
    [CommandId.showDataHealth]: async () => {
      const ledger = await model.get();
      if (!ledger) return undefined;
      ledger.refresh();
      const s = model.currentSettings;
      const health = dataHealth(ledger.database, ledger.paths.file, { env: process.env, extra: s.extra, disabled: s.disabled });
      await documents.show('Data Health.md', renderHealth(health), 'markdown', { preview: true });
      return health;
    },
  };
}
