// Owns the password sign-in's ratio to its ceiling: the whole flow a person goes through (the
// sign-in page, the form post, then a signed-in page with the new session) against a raw
// argon2id verify loop with the same cost (`server hashing ceiling`, the argon2 crate alone),
// on the same core in the same run. The server and Postgres are pinned to CPU 0, the load
// generator (this process) to CPU 1; the raw loop runs one thread on CPU 0. Prints the table,
// writes it to BENCH_OUT and the figures as JSON to BENCH_JSON when those are set.
//
//   CIAM_SERVER_BIN=…/release/server node bench/ceiling.mjs   (make bench does this)
import { execFile, execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

import { startServer, serverBin } from '../support/server.mjs';
import { accountOnOneDevice } from './accounts.mjs';
import { percentile, pin, pinPostgres, twoCores } from './load.mjs';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_CEILING_SECONDS || 10);
const CONCURRENCY = 4;
const EMAIL = 'ceiling@example.com';
const PASSWORD = 'violet tractor sings at dawn';

if (twoCores) execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });

/** The raw verify rate on CPU 0, one thread. */
async function ceiling() {
  const args = ['hashing', 'ceiling', '--seconds', String(SECONDS), '--threads', '1'];
  const { stdout } = twoCores ? await run('taskset', ['-c', '0', serverBin, ...args]) : await run(serverBin, args);
  return JSON.parse(stdout).per_second;
}

const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json', CIAM_HASHING_QUEUE: '1000' } });
let result;
try {
  const { call, device } = await accountOnOneDevice(server, EMAIL, PASSWORD);
  pin(server.pid);
  const unpin = pinPostgres();
  try {
    /** One whole sign-in; returns its duration in ms, or throws. */
    async function flow() {
      const started = performance.now();
      const page = await fetch(`${server.baseURL}/signin`, { headers: { Cookie: device } });
      if (page.status !== 200) throw new Error(`sign-in page: ${page.status}`);
      await page.arrayBuffer();
      const signedIn = await call('sign-in', { email: EMAIL, password: PASSWORD }, device);
      if (signedIn.status !== 200) throw new Error(`sign-in: ${signedIn.status} ${await signedIn.text()}`);
      await signedIn.arrayBuffer();
      const session = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]).filter((c) => !c.startsWith('device='));
      const profile = await fetch(`${server.baseURL}/profile`, { headers: { Cookie: [device, ...session].join('; ') }, redirect: 'manual' });
      if (profile.status !== 200) throw new Error(`profile with the new session: ${profile.status}`);
      await profile.arrayBuffer();
      return performance.now() - started;
    }
    for (let i = 0; i < 5; i += 1) await flow();
    const times = [];
    const until = Date.now() + SECONDS * 1000;
    const startedAt = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() < until) times.push(await flow());
      }),
    );
    const elapsed = (performance.now() - startedAt) / 1000;
    const flows = times.length / elapsed;
    const raw = await ceiling();
    result = {
      date: new Date().toISOString().slice(0, 10),
      cores_measured: 1,
      concurrency: CONCURRENCY,
      seconds: SECONDS,
      sign_ins_per_second: flows,
      p50_ms: percentile(times, 50),
      p99_ms: percentile(times, 99),
      raw_verifies_per_second: raw,
      ratio: flows / raw,
    };
  } finally {
    unpin();
  }
} finally {
  await server.stop();
}

const f = (x, d = 1) => x.toFixed(d);
const table = `| full sign-ins/s (1 core) | p50 (ms) | p99 (ms) | raw argon2id verifies/s (1 core) | ratio |
|---:|---:|---:|---:|---:|
| ${f(result.sign_ins_per_second)} | ${f(result.p50_ms)} | ${f(result.p99_ms)} | ${f(result.raw_verifies_per_second)} | ${f(result.ratio, 2)} |
`;
console.log(table);
if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, table);
if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, `${JSON.stringify(result, null, 2)}\n`);
