import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeStaleTemps, writeFileAtomic } from '../../src/store/atomic';
import { diskFaultOf, DiskFaultError, withDiskFaults } from '../../src/store/diskFault';
import { tempDir } from '../helpers';

const temps = (dir: string): string[] => fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'));

describe('writeFileAtomic: the one writer', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('ol-atomic-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('replaces a file whole, with the mode asked for, keeping the previous one as the backup', () => {
    const file = path.join(dir, 'f.json');
    assert.equal(writeFileAtomic(file, 'one'), true);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'owner only by default');
    writeFileAtomic(file, Buffer.from('two'), { backup: path.join(dir, 'f.bak'), mode: 0o644 });
    assert.equal(fs.readFileSync(file, 'utf8'), 'two');
    assert.equal(fs.readFileSync(path.join(dir, 'f.bak'), 'utf8'), 'one');
    assert.deepEqual(temps(dir), []);
  });

  it('exclusive: creates once and never replaces (of racing writers one wins)', () => {
    const file = path.join(dir, 'sub', 'key');
    assert.equal(writeFileAtomic(file, 'first', { exclusive: true, mkdirMode: 0o700 }), true);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(writeFileAtomic(file, 'second', { exclusive: true }), false);
    assert.equal(fs.readFileSync(file, 'utf8'), 'first');
    assert.deepEqual(temps(path.dirname(file)), []);
  });

  it('a failed rename (a folder in the way) leaves the target as it was and no temp file', () => {
    const target = path.join(dir, 'busy');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'inside'), 'x');
    assert.throws(
      () => writeFileAtomic(target, 'data'),
      (e: NodeJS.ErrnoException) => ['EISDIR', 'ENOTEMPTY', 'EEXIST', 'EPERM'].includes(e.code ?? ''),
    );
    assert.equal(fs.readFileSync(path.join(target, 'inside'), 'utf8'), 'x');
    assert.deepEqual(temps(dir), []);
  });

  it('a failed backup leaves the target as it was and no temp file', () => {
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'old');
    fs.mkdirSync(path.join(dir, 'bak'));
    fs.writeFileSync(path.join(dir, 'bak', 'x'), '');
    assert.throws(() => writeFileAtomic(file, 'new', { backup: path.join(dir, 'bak') }));
    assert.equal(fs.readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.includes('tmp')),
      [],
    );
  });

  it('removeStaleTemps: temp files of the given files older than an hour go; fresh ones (a save in progress) and others stay', () => {
    const old = Date.now() / 1000 - 7200;
    const make = (name: string, stale: boolean): string => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, '');
      if (stale) fs.utimesSync(p, old, old);
      return name;
    };
    make('.ledger.sqlite.1.2.3.tmp', true);
    make('.ledger.journal.1.2.3.tmp', true);
    const fresh = make('.ledger.sqlite.4.5.6.tmp', false);
    const other = make('.other.1.2.tmp', true);
    removeStaleTemps(path.join(dir, 'ledger.sqlite'), path.join(dir, 'ledger.journal'));
    assert.deepEqual(fs.readdirSync(dir).sort(), [fresh, other].sort());
  });
});

describe('disk faults: one plain line naming the folder and what to do', () => {
  const errno = (code: string, p: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`${code}: failed, open '${p}'`), { code, path: p });

  it('classifies EACCES, EPERM, EROFS, ENOSPC and EDQUOT, and nothing else', () => {
    const dir = tempDir('ol-fault-');
    try {
      const file = path.join(dir, 'ledger.lock');
      const cases: Array<[string, RegExp]> = [
        [
          'ENOSPC',
          /^Cannot save the ledger: the disk holding .+ is full \(ENOSPC\)\. Free some space and run the command again\.$/,
        ],
        [
          'EDQUOT',
          /^Cannot save the ledger: your disk quota for .+ is used up \(EDQUOT\)\. Free some space and run the command again\.$/,
        ],
        [
          'EROFS',
          /^Cannot save the ledger: .+ is on a read-only file system \(EROFS\)\. Remount it read-write, or use a writable ledger home/,
        ],
        [
          'EACCES',
          /^Cannot save the ledger: you have no permission to write in .+ \(EACCES\)\. Give your user write access/,
        ],
        ['EPERM', /\(EPERM\)/],
      ];
      for (const [code, want] of cases) {
        const f = diskFaultOf(errno(code, file), 'save the ledger', file);
        assert.ok(f instanceof DiskFaultError, code);
        assert.match(f.message, want);
        assert.equal(f.folder, dir, `${code} names the folder of the file`);
        assert.ok(!f.message.includes('\n'));
      }
      assert.equal(diskFaultOf(errno('ENOENT', file), 'x', file), undefined);
      assert.equal(diskFaultOf(new Error('plain'), 'x', file), undefined);
      // A folder that could not be created: the closest existing parent is named.
      const deep = path.join(dir, 'a', 'b', 'c');
      assert.equal(diskFaultOf(errno('EACCES', deep), 'x', deep)?.folder, dir);
      assert.throws(
        () =>
          withDiskFaults('write the summary', file, () => {
            throw errno('EROFS', file);
          }),
        (e: Error) => e instanceof DiskFaultError && /^Cannot write the summary: .+ \(EROFS\)\./.test(e.message),
      );
      assert.equal(
        withDiskFaults('x', file, () => 7),
        7,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
