/**
 * Deterministic randomness for the demo world: a mulberry32 PRNG with forkable streams, id helpers in the shapes
 * the real tools use, and a pool of pre-generated text that tool results are sliced from (cheap at 600 MB scale).
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const HEX = '0123456789abcdef';

/** 32-bit FNV-1a, used to derive independent streams from labels. */
function hash32(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    if (hi <= lo) return lo;
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(arr: readonly T[]): T {
    if (arr.length === 0) throw new Error('pick from an empty list');
    return arr[Math.floor(this.next() * arr.length)] as T;
  }

  /** Fisher-Yates, in place; returns the array. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const a = arr[i] as T;
      arr[i] = arr[j] as T;
      arr[j] = a;
    }
    return arr;
  }

  /** An independent stream derived from this one's seed state and a label (does not advance this stream). */
  fork(label: string): Rng {
    return new Rng(hash32(label, this.s ^ 0x9e3779b9));
  }

  chars(alphabet: string, n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  hex(n: number): string {
    return this.chars(HEX, n);
  }

  base62(n: number): string {
    return this.chars(BASE62, n);
  }

  /** RFC 4122 version 4 UUID. */
  uuid4(): string {
    const h = this.hex(32);
    const variant = HEX[8 + this.int(0, 3)] ?? '8';
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** Version 7 UUID (time-ordered), as Codex uses for session ids. */
  uuid7(ms: number): string {
    const t = Math.floor(ms).toString(16).padStart(12, '0').slice(-12);
    const r = this.hex(20);
    const variant = HEX[8 + this.int(0, 3)] ?? '8';
    return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-${variant}${r.slice(4, 7)}-${r.slice(8, 20)}`;
  }
}

const WORDS = (
  'the a to of and in is for on with that this from by as at be are it an or not was if then else return const ' +
  'let value result error request response user account payment refund invoice order customer amount currency ' +
  'handler service client server config option cache token session queue worker retry timeout status update ' +
  'create delete fetch parse render build test check validate format schema table index column migration ' +
  'event stream buffer record entry field key map list set array object string number boolean null undefined ' +
  'async await promise callback module export import default interface type class extends implements new'
).split(' ');

const IDENTS = [
  'amount',
  'currency',
  'userId',
  'orderId',
  'invoice',
  'refund',
  'ledger',
  'retries',
  'payload',
  'headers',
  'options',
  'config',
  'client',
  'logger',
  'metrics',
  'cursor',
  'batch',
  'items',
  'total',
  'status',
  'result',
];

const FUNCS = [
  'createRefund',
  'applyDiscount',
  'parseInvoice',
  'validateAmount',
  'fetchCustomer',
  'retryWithBackoff',
  'formatCurrency',
  'buildQuery',
  'normaliseEvent',
  'renderSummary',
  'loadConfig',
  'flushQueue',
  'hashKey',
];

const NON_ASCII = ['é', '→', '—', 'ü', '✓', '·', 'ñ', '≥'];

function codeLine(r: Rng): string {
  const indent = '  '.repeat(r.int(0, 3));
  switch (r.int(0, 9)) {
    case 0:
      return `${indent}const ${r.pick(IDENTS)} = await ${r.pick(FUNCS)}(${r.pick(IDENTS)}, { ${r.pick(IDENTS)}: ${r.int(0, 999)} });`;
    case 1:
      return `${indent}if (!${r.pick(IDENTS)}) throw new Error("${r.pick(WORDS)} ${r.pick(WORDS)} ${r.pick(IDENTS)} missing");`;
    case 2:
      return `${indent}return ${r.pick(IDENTS)}.${r.pick(IDENTS)} ?? ${r.int(0, 99)};`;
    case 3:
      return `${indent}// ${r.pick(WORDS)} ${r.pick(WORDS)} ${r.pick(WORDS)} ${r.pick(WORDS)} ${r.pick(NON_ASCII)} ${r.pick(WORDS)}`;
    case 4:
      return `${indent}export async function ${r.pick(FUNCS)}(${r.pick(IDENTS)}: string, ${r.pick(IDENTS)}: number): Promise<void> {`;
    case 5:
      return `${indent}}`;
    case 6:
      return `${indent}logger.info('${r.pick(WORDS)} ${r.pick(IDENTS)}', { ${r.pick(IDENTS)}, ${r.pick(IDENTS)} });`;
    case 7:
      return `${indent}for (const ${r.pick(IDENTS)} of ${r.pick(IDENTS)}) {`;
    case 8:
      return `${indent}expect(${r.pick(FUNCS)}(${r.int(0, 9999)})).toEqual({ ${r.pick(IDENTS)}: "${r.pick(WORDS)}" });`;
    default:
      return '';
  }
}

function shellLine(r: Rng): string {
  switch (r.int(0, 7)) {
    case 0:
      return `  ✓ ${r.pick(FUNCS)} ${r.pick(WORDS)} ${r.pick(WORDS)} (${r.int(1, 400)} ms)`;
    case 1:
      return `src/${r.pick(IDENTS)}/${r.pick(FUNCS)}.ts:${r.int(1, 900)}:${r.int(1, 80)}: ${r.pick(WORDS)} ${r.pick(WORDS)} "${r.pick(IDENTS)}"`;
    case 2:
      return `-rw-r--r--  1 dev staff ${r.int(100, 99999)} Nov ${r.int(1, 28)} ${r.int(10, 23)}:${r.int(10, 59)} ${r.pick(IDENTS)}.ts`;
    case 3:
      return `[${r.int(10, 23)}:${r.int(10, 59)}:${r.int(10, 59)}] ${r.pick(['INFO', 'WARN', 'DEBUG'])} ${r.pick(WORDS)} ${r.pick(IDENTS)}=${r.int(0, 99999)} ${r.pick(WORDS)}\t${r.pick(NON_ASCII)}`;
    case 4:
      return `    at ${r.pick(FUNCS)} (/app/src/${r.pick(IDENTS)}.ts:${r.int(1, 500)}:${r.int(1, 60)})`;
    case 5:
      return `${r.int(0, 9)} passing, ${r.int(0, 3)} pending — ${r.pick(WORDS)} ${r.pick(WORDS)} \\ ${r.pick(IDENTS)}`;
    default:
      return `${r.pick(WORDS)} ${r.pick(WORDS)} ${r.pick(WORDS)} ${r.pick(IDENTS)} ${r.pick(WORDS)} ${r.pick(WORDS)}`;
  }
}

const RAW_MARK_VALUE = '\u0000raw\u0000';
const RAW_MARK = JSON.stringify(RAW_MARK_VALUE);
let rawQueue: string[] = [];

/**
 * A value whose JSON text is already known (a pre-escaped slice of the text pool). `stringify` splices it in, so the
 * big payloads of a 600 MB world are never escaped again (JSON.rawJSON is not in Node 20).
 */
class RawJson {
  constructor(readonly json: string) {}

  toJSON(): string {
    rawQueue.push(this.json);
    return RAW_MARK_VALUE;
  }
}

/** JSON.stringify that understands RawJson values; the output is identical to stringifying the plain strings. */
export function stringify(v: unknown): string {
  rawQueue = [];
  const s = JSON.stringify(v);
  if (rawQueue.length === 0) return s;
  const q = rawQueue;
  rawQueue = [];
  const parts = s.split(RAW_MARK);
  let out = parts[0] ?? '';
  for (let i = 1; i < parts.length; i++) out += (q[i - 1] ?? '') + (parts[i] ?? '');
  return out;
}

/** JSON string escaping without the quotes. */
export function esc(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

/** A corpus kept in escaped form (once or twice), sliceable only at line boundaries so escapes stay whole. */
class EscapedCorpus {
  readonly text: string;
  private readonly starts: number[] = [];
  private readonly sep: number;

  constructor(lines: string[], twice: boolean) {
    const sep = twice ? esc(esc('\n')) : esc('\n');
    this.sep = sep.length;
    const parts: string[] = [];
    let off = 0;
    for (const l of lines) {
      const e = twice ? esc(esc(l)) : esc(l);
      this.starts.push(off);
      parts.push(e);
      off += e.length + this.sep;
    }
    this.text = parts.join(sep);
  }

  private lineAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  slice(r: Rng, len: number): string {
    const n = Math.max(1, Math.min(Math.floor(len), this.text.length - 1));
    const from = this.lineAt(r.int(0, Math.max(0, this.text.length - n - 1)));
    const a = this.starts[from] ?? 0;
    let to = this.lineAt(Math.min(this.text.length - 1, a + n));
    if (to <= from) to = Math.min(from + 1, this.starts.length);
    const b = to >= this.starts.length ? this.text.length : (this.starts[to] ?? this.text.length) - this.sep;
    return this.text.slice(a, Math.max(a, b));
  }
}

/** Pre-generated text that payloads are sliced from: realistic enough, and cheap at any volume. */
export class TextPool {
  readonly code: string;
  readonly shell: string;
  readonly numbered: string;
  /** Base64-looking noise for signatures and encrypted reasoning. */
  readonly b64: string;

  constructor(r: Rng, size = 1 << 20) {
    this.b64 = r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 1 << 16);
    this.code = TextPool.build(r, size, codeLine);
    this.shell = TextPool.build(r, size, shellLine);
    // Claude Code's Read results number their lines ("    12→..."); build a numbered variant once.
    const lines = this.code.split('\n');
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) out.push(`${String(i + 1).padStart(6, ' ')}→${lines[i] ?? ''}`);
    this.numbered = out.join('\n');
    this.esc = {
      code: new EscapedCorpus(lines, false),
      shell: new EscapedCorpus(this.shell.split('\n'), false),
      numbered: new EscapedCorpus(out, false),
    };
    this.shell2 = new EscapedCorpus(this.shell.split('\n'), true);
  }

  private readonly esc: Record<'code' | 'shell' | 'numbered', EscapedCorpus>;
  private readonly shell2: EscapedCorpus;

  /** A JSON string value of about `len` characters of the corpus (after an optional prefix), never re-escaped. */
  raw(r: Rng, which: 'code' | 'shell' | 'numbered', len: number, prefix = ''): RawJson {
    return new RawJson(`"${esc(prefix)}${this.esc[which].slice(r, len)}"`);
  }

  /**
   * A JSON string value holding JSON text: innerPrefix + (a shell-corpus string literal's content) + innerSuffix,
   * e.g. Codex's function_call_output `output`, which is itself a JSON document.
   */
  rawNested(r: Rng, len: number, innerPrefix: string, innerSuffix: string): RawJson {
    return new RawJson(`"${esc(innerPrefix)}${this.shell2.slice(r, len)}${esc(innerSuffix)}"`);
  }

  private static build(r: Rng, size: number, line: (r: Rng) => string): string {
    const parts: string[] = [];
    let n = 0;
    while (n < size) {
      const l = line(r);
      parts.push(l);
      n += l.length + 1;
    }
    return parts.join('\n');
  }

  /** A slice of about `len` characters starting at a line boundary. */
  slice(r: Rng, which: 'code' | 'shell' | 'numbered' | 'b64', len: number): string {
    const src =
      which === 'code' ? this.code : which === 'shell' ? this.shell : which === 'b64' ? this.b64 : this.numbered;
    const n = Math.max(1, Math.min(Math.floor(len), src.length - 1));
    let start = r.int(0, src.length - n - 1);
    const nl = src.indexOf('\n', start);
    if (nl >= 0 && nl + 1 + n <= src.length) start = nl + 1;
    return src.slice(start, start + n);
  }

  /** A short phrase of words. */
  words(r: Rng, n: number): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(r.pick(WORDS));
    return out.join(' ');
  }
}

/** Size around `avg`: uniform in [0.3, 1.7] x avg. */
export function around(r: Rng, avg: number): number {
  return Math.max(16, Math.floor(avg * (0.3 + 1.4 * r.next())));
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
