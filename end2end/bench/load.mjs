// Owns what the HTTP benchmarks share: percentiles, wrk runs (the request from request.lua, the load pinned
// to CPU 1 on a machine with two or more cores), the CPU time processes used, and pinning the
// server and Postgres to CPU 0.
import { execFile, execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

export const twoCores = cpus().length >= 2;

/** The `p`th percentile of `xs` (nearest rank), NaN when there are none. */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** wrk's latency (`850.00us`, `1.20ms`, `2.00s`) in milliseconds. */
function millis(text) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (!m) return NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
}

/**
 * Runs wrk once against `url` for `seconds`: `connections` kept connections (default 32) from
 * one thread, the request that request.lua builds from `method`, `auth`, `body` (`{token}`
 * taken from the `pool` file line by line) and `contentType`. Returns requests/s, the count of
 * non-2xx answers, socket errors, the mean latency as wrk printed it and the p50/p90/p99 in ms.
 */
export async function wrk(url, { method = 'GET', auth = '', body = '', pool = '', contentType = '', connections = 32 }, seconds) {
  const pin = twoCores ? ['taskset', '-c', '1'] : [];
  const args = [...pin, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', join(here, 'request.lua'), url];
  const { stdout } = await run(args[0], args.slice(1), {
    env: { ...process.env, BENCH_METHOD: method, BENCH_AUTH: auth, BENCH_BODY: body, BENCH_POOL: pool, BENCH_CONTENT_TYPE: contentType },
  });
  const percentile = (p) => millis(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(stdout)?.[1]);
  return {
    rate: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0),
    bad: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0),
    errors: /Socket errors:.*/.exec(stdout)?.[0] ?? '',
    latency: /Latency\s+(\S+)/.exec(stdout)?.[1] ?? '',
    p50: percentile(50),
    p90: percentile(90),
    p99: percentile(99),
  };
}

const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;

/** CPU time (user + system, in seconds) the processes `pids` have used so far. */
export async function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks / TICKS;
}

/** The pids of every Postgres process. */
export function postgresPids() {
  return execFileSync('pgrep', ['-x', 'postgres']).toString().split('\n').filter(Boolean);
}

/** Pins process `pid` (all its threads) to CPU 0. */
export function pin(pid) {
  if (twoCores) execFileSync('taskset', ['-a', '-cp', '0', String(pid)], { stdio: 'ignore' });
}

/** Pins every Postgres process to CPU 0 (new backends inherit it); returns how to undo it. */
export function pinPostgres() {
  if (!twoCores) return () => {};
  const all = `0-${cpus().length - 1}`;
  for (const pid of postgresPids()) execFileSync('taskset', ['-a', '-cp', '0', pid], { stdio: 'ignore' });
  return () => {
    for (const pid of postgresPids()) {
      try {
        execFileSync('taskset', ['-a', '-cp', all, pid], { stdio: 'ignore' });
      } catch {
        // gone
      }
    }
  };
}
