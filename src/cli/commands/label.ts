import { isSessionLabel, SESSION_LABELS } from '../../core/usage/model';
import { resolveSession, setLabel } from '../../services/queries';
import { UsageError } from '../args';
import type { Command } from '../command';
import { withLedger } from '../ledger';

export const labelCommand: Command = {
  name: 'label',
  summary: `label a session: ${SESSION_LABELS.join(' | ')}`,
  help: `Usage: outcome-ledger label SESSION_ID ${SESSION_LABELS.join('|')}|none

Labels a session honestly (its tokens still count as tokens without an outcome); "none" removes the label.
SESSION_ID is the id from \`sessions\` (source:id), the tool's own id, or a unique prefix.`,
  examples: [
    ['outcome-ledger label claude-code:5f0c exploration', 'this session was exploration: not meant to ship'],
    ['outcome-ledger label claude-code:5f0c none', 'remove the label'],
  ],
  options: {},
  positionals: true,
  async run(p, io) {
    const [id, label, ...rest] = p.positionals;
    if (!id || !label || rest.length > 0)
      throw new UsageError(`label needs SESSION_ID and one of ${SESSION_LABELS.join(', ')}, none`);
    if (label !== 'none' && !isSessionLabel(label))
      throw new UsageError(`unknown label "${label}": use ${SESSION_LABELS.join(', ')} or none`);
    return withLedger(p, io, async (ledger) => {
      const found = await ledger.write((db) => {
        const s = resolveSession(db, id);
        setLabel(db, s.ref, label === 'none' ? null : label);
        return s;
      });
      io.out(label === 'none' ? `Removed the label of ${found.id}.` : `Labelled ${found.id} as ${label}.`);
      return 0;
    });
  },
};
