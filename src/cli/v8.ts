/**
 * The V8 settings of a CLI run, and the one place that asks V8 for a full garbage collection. Node built-ins only:
 * the launcher (launch.ts) sets the flags before it compiles the bundle, because V8 accepts a code cache only under
 * the flags it was made with; the bundle (main.ts) sets the same again for a run from the sources.
 *
 * The extension never uses this: the extension host is VS Code's process, shared with other extensions.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's major version; the tuning flags below are known to exist from 11 (Node 20) to 13 (Node 24). */
const V8_MAJOR = Number(process.versions.v8.split('.')[0]);

/**
 * - `--liftoff-only`: sql.js is one large wasm module. V8 compiles it quickly (Liftoff), then recompiles hot functions
 *   in the background (tier-up); in a CLI run of well under a second that recompilation costs more than it saves,
 *   competes for the CPU and stalls the first await by ~70 ms. Measured on 150 MB of logs: warm `report --json`
 *   224 → 140 ms, cold 520 → 410 ms; `link` when nothing moved 200 → 130 ms. On a year of heavy use, letting V8 tier
 *   up made `report --json` 1.8 → 1.9–2.3 s and a first import 34 → 46 s.
 * - `--semi-space-growth-factor=1`: the young generation stays at its first size (1 MB a half) instead of doubling up
 *   to 16: a run's short-lived rows then cost 2 MB, not 32, of resident memory. Measured on a year of heavy use:
 *   `report --json --no-import` 148 → 128 MB, warm `import` 147 → 130 MB, at the same speed (docs/benchmarks.md).
 *   The flag can be set while the process runs (the young generation's largest size cannot).
 * - `--heap-growing-percent=25`: after a full collection the old generation may grow by a quarter of what was live
 *   before the next one, instead of up to four times it (V8 chooses the factor from how fast collections are). A
 *   year's summary held ~40 MB live and grew to 110 MB of heap before its next collection. Measured on a year of
 *   heavy use: warm `report --json` 140 → 124 MB, a year's HTML summary 253 → 187 MB, at the same speed.
 * - `--expose-gc`: lets `collectGarbage` below get V8's `gc` (the flag changes nothing else).
 *
 * The two tuning flags are set only on the V8 versions known to have them: an unknown flag makes V8 print an error.
 */
export function setCliV8Flags(): void {
  setFlagsFromString('--liftoff-only');
  if (V8_MAJOR >= 11 && V8_MAJOR <= 13) {
    setFlagsFromString('--semi-space-growth-factor=1');
    setFlagsFromString('--heap-growing-percent=25');
  }
  setFlagsFromString('--expose-gc');
}

let gc: (() => void) | null | undefined;

/**
 * A full garbage collection, between the phases of a long run (an import's checkpoint, the end of an import, the end
 * of linking). V8 sets how far its heap may grow before the next full collection from what was live at the last
 * one: without this, a report that follows an import grows on top of everything the import let go (warm
 * `report --json` on a year of heavy use: 195 MB; with it, 140 MB). One costs 5–15 ms when little is live.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      // `gc` is given to contexts made after --expose-gc was set (setCliV8Flags): a new one hands it over. Without the
      // flag there is none, and nothing is collected.
      const fn = runInNewContext('typeof gc === "function" ? gc : null') as (() => void) | null;
      gc = fn;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
