import { timeZoneOf } from '../args';
import type { Command } from '../command';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'build a demo world in a temp folder, import it and print its report',
  help: `Usage: outcome-ledger demo [--keep]

Builds a realistic demo world in a temp folder (git repositories plus Claude Code, Codex and Copilot Chat logs in
their real formats), imports it into a ledger inside that folder and prints its report. Your own ledger is not touched.

  --keep   keep the demo folder (its path is printed) instead of deleting it`,
  examples: [
    ['npm run demo', "a demo world's report (from a checkout)"],
    ['outcome-ledger demo --keep', 'keep the demo world, its ledger and a signed summary'],
  ],
  options: { keep: { type: 'boolean' } },
  positionals: false,
  async run(p, io) {
    const { runDemo } = await import('../demo');
    return runDemo({ keep: p.values.keep === true, timeZone: timeZoneOf(p, io.env), io });
  },
};
