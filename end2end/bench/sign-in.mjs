// Owns the sign-in latency benchmark: the password sign-in as the page sends it (the server
// function behind the form: throttle and stuffing checks, the argon2id verify, the risk engine,
// the session and its audit row) against this server's release build on a fresh database,
// from one usual device, with the risk engine on and off. The rounds alternate on, off, on, off…
// so that drift in the machine's speed falls on both. Prints p50 and p99 of each, and writes the
// table to BENCH_OUT when that is set.
//
//   CIAM_SERVER_BIN=…/release/server node bench/sign-in.mjs   (make bench does this)
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';

import { startServer } from '../support/server.mjs';
import { percentile } from './load.mjs';
import { accountOnOneDevice } from './accounts.mjs';

const PER_ROUND = Number(process.env.BENCH_SIGN_INS || 100);
const ROUNDS = 3;
const EMAIL = 'bench@example.com';
const PASSWORD = 'violet tractor sings at dawn';

const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json' } });
try {
  const { call, device } = await accountOnOneDevice(server, EMAIL, PASSWORD);

  const times = { on: [], off: [] };
  for (let round = 0; round < 2 * ROUNDS; round += 1) {
    const mode = round % 2 === 0 ? 'on' : 'off';
    await server.cli(['settings', 'set', 'risk_engine_enabled', mode]);
    for (let i = 0; i < PER_ROUND; i += 1) {
      const started = performance.now();
      const res = await call('sign-in', { email: EMAIL, password: PASSWORD }, device);
      const ms = performance.now() - started;
      if (res.status !== 200) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      times[mode].push(ms);
    }
  }

  const row = (mode) => `| risk engine ${mode} | ${times[mode].length} | ${percentile(times[mode], 50).toFixed(2)} | ${percentile(times[mode], 99).toFixed(2)} |`;
  const cost = percentile(times.on, 50) - percentile(times.off, 50);
  const table = [
    `Password sign-in, sequential, one usual device (${cpus().length} cores, ${new Date().toISOString().slice(0, 10)})`,
    '',
    '| | sign-ins | p50 (ms) | p99 (ms) |',
    '|---|---:|---:|---:|',
    row('on'),
    row('off'),
    '',
    `The engine adds ${cost.toFixed(2)} ms at p50 (${((100 * cost) / percentile(times.off, 50)).toFixed(1)}%).`,
  ].join('\n');
  console.log(table);
  if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, `${table}\n`);
} finally {
  await server.stop();
}
