// Owns the memory benchmark: what a node of this server's release build holds (its resident set)
// idle, then after password sign-ins at 4 and at 64 at once (BENCH_MEMORY_LOADS, default "4,64"),
// none of them shed (each run BENCH_MEMORY_SECONDS, default 10), against the bound the hashing allows: the idle size +
// slots × 19 MiB + 50 MB, with as many slots as the machine has cores. Prints the table, and
// writes it to BENCH_OUT when that is set.
//
//   CIAM_SERVER_BIN=…/release/server node bench/memory.mjs   (make bench does this)
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';

import { startServer } from '../support/server.mjs';
import { accountOnOneDevice } from './accounts.mjs';

const SECONDS = Number(process.env.BENCH_MEMORY_SECONDS || 10);
const LOADS = (process.env.BENCH_MEMORY_LOADS || '4,64').split(',').map(Number);
const EMAIL = 'memory@example.com';
const PASSWORD = 'violet tractor sings at dawn';
const MIB = 1024 * 1024;
let why = '';

/** The resident set and its peak (VmRSS, VmHWM) of process `pid`, in MiB. */
async function resident(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { now: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

// Every sign-in queues for a hashing slot rather than being shed: the memory of a full queue is
// what is measured (overload.mjs measures the shedding).
const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json', CIAM_HASHING_QUEUE: '1000' } });
try {
  const { call, device } = await accountOnOneDevice(server, EMAIL, PASSWORD);
  // Let start-up work settle before reading the idle size.
  await new Promise((r) => setTimeout(r, 2000));
  const idle = await resident(server.pid);

  /** Signs in from `concurrency` loops for SECONDS; returns the sign-ins done and refused. */
  async function load(concurrency) {
    const until = Date.now() + SECONDS * 1000;
    let done = 0;
    let refused = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const res = await call('sign-in', { email: EMAIL, password: PASSWORD }, device);
        if (res.status === 200) {
          done += 1;
          await res.arrayBuffer();
        } else {
          refused += 1;
          if (!why) why = `${res.status} ${await res.text()}`;
        }
      }
    }));
    return { done, refused };
  }

  const slots = cpus().length;
  const bound = idle.now + slots * 19 + 50e6 / MIB;
  const rows = [];
  for (const concurrency of LOADS) {
    const { done, refused } = await load(concurrency);
    const after = await resident(server.pid);
    rows.push(`| ${concurrency} | ${done} | ${refused} | ${after.now.toFixed(0)} | ${after.peak.toFixed(0)} | ${after.peak <= bound ? 'yes' : 'no'} |`);
  }
  const table = [
    `Resident memory under password sign-ins, ${SECONDS} s per run (${slots} cores, so ${slots} hashing slots; ${new Date().toISOString().slice(0, 10)})`,
    '',
    `Idle: ${idle.now.toFixed(0)} MiB. Bound: idle + ${slots} × 19 MiB + 50 MB = ${bound.toFixed(0)} MiB.`,
    '',
    '| at once | sign-ins | refused | resident after (MiB) | peak so far (MiB) | within the bound |',
    '|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
  console.log(table);
  if (why) {
    // A refusal is a finding: say what it was and what the server logged first.
    const logged = server.log().split('\n').find((line) => line.includes('"ERROR"')) ?? '';
    console.log(`first refusal: ${why}\n${logged.slice(0, 600)}`);
  }
  if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, `${table}\n`);
} finally {
  await server.stop();
}
