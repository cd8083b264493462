import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

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
