import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from './atomic';
import { withDiskFaults } from './diskFault';

const ID = /^[0-9a-f]{32}$/;

/**
 * A random id created once per ledger home ("machine id" of team rollups): it says which rollups came from the same
 * ledger, so a merge counts each machine's work once, and it says nothing about the machine (no host name, no
 * hardware id). Created race-safe (exclusive create); a damaged file is replaced.
 */
export function loadOrCreateMachineId(home: string): string {
  const file = path.join(home, 'machine-id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (ID.test(id)) return id;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const id = randomBytes(16).toString('hex');
  return withDiskFaults('create the machine id', home, () => {
    // Exclusive: exactly one process creates the file; the others read the id that won.
    if (writeFileAtomic(file, `${id}\n`, { mode: 0o644, exclusive: true, mkdirMode: 0o700 })) return id;
    const kept = fs.readFileSync(file, 'utf8').trim();
    if (ID.test(kept)) return kept;
    writeFileAtomic(file, `${id}\n`, { mode: 0o644 }); // damaged: replace it
    return id;
  });
}
