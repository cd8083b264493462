import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Figure } from './import';

export interface Measured {
  code: number | null;
  ms: number;
  /** Peak resident memory of the process, in MB. */
  peakMB: number;
  stdout: string;
  stderr: string;
}

const GNU_TIME = '/usr/bin/time';

/**
 * Runs a command and measures wall time and peak RSS. Peak RSS comes from GNU time (`-f %M`) when installed,
 * else from polling /proc/<pid>/status VmHWM (the kernel's high-water mark, so sparse polling still sees the peak).
 */
export function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  const useTime = fs.existsSync(GNU_TIME);
  const marker = '__PEAK_KB__=';
  const [file, argv] = useTime ? [GNU_TIME, ['-f', `${marker}%M`, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let polledKB = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll = useTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) polledKB = Math.max(polledKB, Number(m[1]));
          } catch {
            // exited
          }
        }, 10);
    child.on('error', reject);
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      let peakKB = polledKB;
      if (useTime) {
        const at = stderr.lastIndexOf(marker);
        if (at !== -1) {
          peakKB = Number(stderr.slice(at + marker.length).trim());
          stderr = stderr.slice(0, at);
        }
      }
      resolve({ code, ms, peakMB: peakKB / 1024, stdout, stderr });
    });
  });
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/**
 * A command spawned `runs` times in a row, as hyperfine does: the median wall time and the highest peak memory.
 * `mustSucceed: false` for a command meant to fail (an unknown command).
 */
export async function spawnedMedian(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  { runs = 10, mustSucceed = true }: { runs?: number; mustSucceed?: boolean } = {},
): Promise<{ ms: number; peakMB: number }> {
  const ms: number[] = [];
  let peakMB = 0;
  for (let i = 0; i < runs; i++) {
    const m = await (mustSucceed ? measureOk : measure)(cmd, args, env);
    ms.push(m.ms);
    peakMB = Math.max(peakMB, m.peakMB);
  }
  return { ms: median(ms), peakMB };
}

/** The loop `speedProbe` times: fixed integer work, the same on every run of every build. */
const PROBE_LOOP =
  'let x=0;const t=performance.now();for(let i=0;i<1e8;i++)x=(x+i)%1000003;' +
  'process.stdout.write(JSON.stringify({ms:performance.now()-t,x}))';

/**
 * This machine's speed now: the median of three runs of a fixed CPU loop, each in a fresh Node process (ms). The
 * figures of one bench are measured minutes apart, and a shared machine's speed can move by a third in that time;
 * taken before and after a part, it tells a slower machine from a slower build (bench/run.ts prints both).
 */
export async function speedProbe(): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < 3; i++) {
    const m = await measureOk(process.execPath, ['-e', PROBE_LOOP], { PATH: process.env.PATH ?? '' });
    ms.push((JSON.parse(m.stdout) as { ms: number }).ms);
  }
  return median(ms);
}

/** `measure`, failing with the command's own words when it exits with anything but 0. */
export async function measureOk(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  const m = await measure(cmd, args, env);
  if (m.code !== 0)
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${m.code}): ${m.stderr.slice(0, 2000)}`);
  return m;
}

/**
 * ccusage's full report (`daily --json --offline`) on the logs `env` points it at, `runs` times: its median time, its
 * last output and its two figures (time and peak memory), the yardstick the ratios are measured against.
 */
export async function measureCcusage(
  ccusage: string,
  env: NodeJS.ProcessEnv,
  runs: number,
  log: (s: string) => void,
): Promise<{ ms: number; stdout: string; figures: Figure[] }> {
  const times: number[] = [];
  let peak = 0;
  let stdout = '';
  for (let i = 0; i < runs; i++) {
    const m = await measureOk(ccusage, ['daily', '--json', '--offline'], env);
    times.push(m.ms);
    peak = Math.max(peak, m.peakMB);
    stdout = m.stdout;
    log(`  ccusage run ${i + 1}: ${m.ms.toFixed(0)} ms (peak ${m.peakMB.toFixed(0)} MB)`);
  }
  const ms = median(times);
  return {
    ms,
    stdout,
    figures: [
      { name: 'ccusage 20 full report (daily --json --offline)', value: Math.round(ms), unit: 'ms' },
      { name: 'ccusage 20 peak memory', value: Math.round(peak), unit: 'MB' },
    ],
  };
}
