// Owns the overload benchmark: password sign-ins against this server's release build, with its
// default hashing queue and then with none (CIAM_HASHING_QUEUE picks one). First the sustainable
// rate (as many sign-ins at once as there are slots, for BENCH_OVERLOAD_SECONDS, default 10) and the unloaded latency (one at a time); then an open
// load at twice the sustainable rate (requests start on a fixed schedule whether or not earlier
// ones have answered, as a crowd does) for the same time. The server should shed the excess at
// once with 503 and keep the p99 of the sign-ins it admits within twice the unloaded p99.
// On two cores or more the server (which then sees one core: one hashing slot) and Postgres run on CPU 0 and this load generator on CPU 1, so that the generator's own work
// does not delay the server's answers. Prints the table, and writes it to BENCH_OUT when set.
//
//   CIAM_SERVER_BIN=…/release/server node bench/overload.mjs   (make bench does this)
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';

import { startServer } from '../support/server.mjs';
import { percentile, pinPostgres, twoCores } from './load.mjs';
import { accountOnOneDevice } from './accounts.mjs';

const SECONDS = Number(process.env.BENCH_OVERLOAD_SECONDS || 10);
const EMAIL = 'overload@example.com';
const PASSWORD = 'violet tractor sings at dawn';


/** Pins this process (all its threads) to `cpu`; processes it starts afterwards inherit it. */
const pinSelf = (cpu) => execFileSync('taskset', ['-a', '-cp', String(cpu), String(process.pid)], { stdio: 'ignore' });

/** The whole measurement against a fresh server with hashing queue `queue` (unset: its default). */
async function measure(queue) {
  // The server is started from CPU 0 and so sees one core; then this process moves to CPU 1.
  if (twoCores) pinSelf(0);
  const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json', ...(queue === undefined ? {} : { CIAM_HASHING_QUEUE: queue }) } });
  if (twoCores) pinSelf(1);
  const unpin = pinPostgres();
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
    const took = (performance.now() - start) / 1000;
    return { unloaded, sustained, rate, offered, answers, took };
  } finally {
    unpin();
    await server.stop();
  }
}

const slots = twoCores ? 1 : cpus().length;
// The default queue (one waiting hash per slot), and none at all, unless one is asked for.
const queues = process.env.CIAM_HASHING_QUEUE ? [process.env.CIAM_HASHING_QUEUE] : [undefined, '0'];
const rows = [];
const verdicts = [];
const others = [];
for (const queue of queues) {
  const { unloaded, sustained, rate, offered, answers, took } = await measure(queue);
  const admitted = answers.filter((a) => a.status === 200).map((a) => a.ms);
  const shed = answers.filter((a) => a.status === 503).map((a) => a.ms);
  const other = answers.filter((a) => a.status !== 200 && a.status !== 503);
  const name = queue === undefined ? `${slots} (the default)` : queue;
  rows.push(
    `| ${name} | one at a time | ${unloaded.length} | | ${percentile(unloaded, 50).toFixed(1)} | ${percentile(unloaded, 99).toFixed(1)} | | | |`,
    `| ${name} | ${slots} at once (sustainable) | ${sustained} | ${rate.toFixed(1)} | | | | | |`,
    `| ${name} | open, ${(2 * rate).toFixed(0)}/s (twice that) | ${offered} | ${(admitted.length / took).toFixed(1)} | ${percentile(admitted, 50).toFixed(1)} | ${percentile(admitted, 99).toFixed(1)} | ${shed.length} | ${percentile(shed, 99).toFixed(1)} | ${other.length} |`,
  );
  verdicts.push(`Queue ${name}: admitted p99 under twice the sustainable rate is ${(percentile(admitted, 99) / percentile(unloaded, 99)).toFixed(2)} × the unloaded p99 (target: at most 2).`);
  others.push(...other.map((a) => a.status));
}
const table = [
  `Password sign-ins under overload (the server on ${slots} core${slots === 1 ? '' : 's'}, so ${slots} hashing slot${slots === 1 ? '' : 's'}${twoCores ? ', the load generator on another' : ''}; ${new Date().toISOString().slice(0, 10)})`,
  '',
  '| hashing queue | load | sign-ins | admitted/s | p50 (ms) | p99 (ms) | shed (503) | shed p99 (ms) | other |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows,
  '',
  ...verdicts,
].join('\n');
console.log(table);
if (others.length > 0) console.log(`other answers: ${[...new Set(others)].join(', ')}`);
if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, `${table}\n`);
