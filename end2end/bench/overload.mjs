// Owns the overload benchmark: password sign-ins against this server's release build with its
// default hashing queue. First the sustainable rate (as many sign-ins at once as there are cores,
// for BENCH_OVERLOAD_SECONDS, default 10) and the unloaded latency (one at a time); then an open
// load at twice the sustainable rate (requests start on a fixed schedule whether or not earlier
// ones have answered, as a crowd does) for the same time. The server should shed the excess at
// once with 503 and keep the p99 of the sign-ins it admits within twice the unloaded p99.
// Prints the table, and writes it to BENCH_OUT when that is set.
//
//   CIAM_SERVER_BIN=…/release/server node bench/overload.mjs   (make bench does this)
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';

import { startServer } from '../support/server.mjs';
import { percentile } from './load.mjs';
import { accountOnOneDevice } from './accounts.mjs';

const SECONDS = Number(process.env.BENCH_OVERLOAD_SECONDS || 10);
const EMAIL = 'overload@example.com';
const PASSWORD = 'violet tractor sings at dawn';


const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json', ...(process.env.CIAM_HASHING_QUEUE ? { CIAM_HASHING_QUEUE: process.env.CIAM_HASHING_QUEUE } : {}) } });
try {
  const { call, device } = await accountOnOneDevice(server, EMAIL, PASSWORD);

  /** One sign-in: its status and how long it took, in ms. */
  async function signIn() {
    const started = performance.now();
    const res = await call('sign-in', { email: EMAIL, password: PASSWORD }, device);
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  }

  // Unloaded: one at a time.
  const unloaded = [];
  for (let i = 0; i < 100; i += 1) unloaded.push((await signIn()).ms);

  // Sustainable: as many at once as there are hashing slots, for SECONDS.
  const slots = cpus().length;
  let sustained = 0;
  const until = Date.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: slots }, async () => {
    while (Date.now() < until) {
      if ((await signIn()).status === 200) sustained += 1;
    }
  }));
  const rate = sustained / SECONDS;

  // Twice that, open: a new sign-in every 1 / (2 × rate) seconds, however long the last ones take.
  const offered = Math.round(2 * rate * SECONDS);
  const gap = 1000 / (2 * rate);
  const start = performance.now();
  const answers = await Promise.all(Array.from({ length: offered }, async (_, i) => {
    const due = start + i * gap;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return signIn();
  }));
  const admitted = answers.filter((a) => a.status === 200).map((a) => a.ms);
  const shed = answers.filter((a) => a.status === 503).map((a) => a.ms);
  const other = answers.filter((a) => a.status !== 200 && a.status !== 503);
  const took = (performance.now() - start) / 1000;

  const table = [
    `Password sign-ins under overload (${slots} cores, so ${slots} hashing slots and a queue of ${slots}; ${new Date().toISOString().slice(0, 10)})`,
    '',
    '| load | sign-ins | admitted/s | p50 (ms) | p99 (ms) | shed (503) | shed p99 (ms) | other |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| one at a time | ${unloaded.length} | | ${percentile(unloaded, 50).toFixed(1)} | ${percentile(unloaded, 99).toFixed(1)} | | | |`,
    `| ${slots} at once (sustainable) | ${sustained} | ${rate.toFixed(1)} | | | | | |`,
    `| open, ${(2 * rate).toFixed(0)}/s (twice that) | ${offered} | ${(admitted.length / took).toFixed(1)} | ${percentile(admitted, 50).toFixed(1)} | ${percentile(admitted, 99).toFixed(1)} | ${shed.length} | ${percentile(shed, 99).toFixed(1)} | ${other.length} |`,
    '',
    `Admitted p99 under twice the sustainable rate: ${(percentile(admitted, 99) / percentile(unloaded, 99)).toFixed(2)} × the unloaded p99 (target: at most 2).`,
  ].join('\n');
  console.log(table);
  if (other.length > 0) console.log(`other answers: ${[...new Set(other.map((a) => a.status))].join(', ')}`);
  if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, `${table}\n`);
} finally {
  await server.stop();
}
