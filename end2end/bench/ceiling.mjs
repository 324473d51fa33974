// Owns the password sign-in's ratio to its ceiling: the whole flow a person goes through (the
// sign-in page, the form post, then a signed-in page with the new session) against a raw
// argon2id verify loop with the same cost (`server hashing ceiling`, the argon2 crate alone),
// on the same core in the same run. The server and Postgres are pinned to CPU 0, the load
// generator (this process) to CPU 1; the raw loop runs one thread on CPU 0, before and after
// each flow. The same flow without
// the signed-in page (the page and the post, which sets the session) is measured too, and once
// more with the risk engine switched off (what the engine costs a sign-in), and the floor
// (`server hashing floor`: read the account, verify, commit a session row, nothing else: what
// any durable password sign-in pays on this machine, Postgres included). Then each
// request alone (4 s, four at a time): the server's and Postgres's CPU per request, and the
// transactions Postgres counted per request (a statement outside one counts as one). Prints the
// tables, writes them to BENCH_OUT and the figures as JSON to BENCH_JSON when those are set.
//
//   CIAM_SERVER_BIN=…/release/server node bench/ceiling.mjs   (make bench does this)
import { execFile, execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

import { startServer, serverBin } from '../support/server.mjs';
import { accountOnOneDevice } from './accounts.mjs';
import { cpuSeconds, percentile, pin, pinPostgres, postgresPids, twoCores } from './load.mjs';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_CEILING_SECONDS || 10);
const CONCURRENCY = 4;
const PASSWORD = 'violet tractor sings at dawn';
/**
 * How many people take turns signing in. One person signing in thousands of times would pile up
 * thousands of live sessions and risk assessments, which their profile page lists and the risk
 * engine reads; spread over a hundred people each ends the run with a realistic few.
 */
const PEOPLE = Number(process.env.BENCH_CEILING_PEOPLE || 100);

if (twoCores) execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });

/** The raw verify rate on CPU 0, one thread. */
async function ceiling() {
  const args = ['hashing', 'ceiling', '--seconds', String(SECONDS), '--threads', '1'];
  const { stdout } = twoCores ? await run('taskset', ['-c', '0', serverBin, ...args]) : await run(serverBin, args);
  return JSON.parse(stdout).per_second;
}

const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json', CIAM_HASHING_QUEUE: '1000', CIAM_TRUSTED_PROXIES: '127.0.0.1' } });
let result;
try {
  const people = [];
  for (let i = 0; i < PEOPLE; i += 2) {
    // Each from a network of their own: registrations without a proof of work are limited
    // per network.
    const pair = [i, i + 1]
      .filter((n) => n < PEOPLE)
      .map((n) => accountOnOneDevice(server, `ceiling-${n}@example.com`, PASSWORD, `10.${n % 250}.${Math.floor(n / 250)}.7`));
    for (const { call, device } of await Promise.all(pair)) people.push({ call, device, email: `ceiling-${people.length}@example.com` });
  }
  let turn = 0;
  /** The next person, in turn. */
  const next = () => people[turn++ % people.length];
  pin(server.pid);
  const unpin = pinPostgres();
  try {
    const cookies = (res) => res.headers.getSetCookie().map((c) => c.split(';')[0]).filter((c) => !c.startsWith('device='));
    const page = async (person = next()) => {
      const res = await fetch(`${server.baseURL}/signin`, { headers: { Cookie: person.device } });
      if (res.status !== 200) throw new Error(`sign-in page: ${res.status}`);
      await res.arrayBuffer();
      return person;
    };
    const post = async (person = next()) => {
      const res = await person.call('sign-in', { email: person.email, password: PASSWORD }, person.device);
      if (res.status !== 200) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      return { person, session: cookies(res) };
    };
    const profile = async ({ person, session }) => {
      const res = await fetch(`${server.baseURL}/profile`, { headers: { Cookie: [person.device, ...session].join('; ') }, redirect: 'manual' });
      if (res.status !== 200) throw new Error(`profile with the new session: ${res.status}`);
      await res.arrayBuffer();
    };

    /** Runs `step` from CONCURRENCY loops for `seconds`; returns the durations (ms) and the rate. */
    async function loop(step, seconds) {
      const times = [];
      const until = Date.now() + seconds * 1000;
      const startedAt = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (Date.now() < until) {
            const t = performance.now();
            await step();
            times.push(performance.now() - t);
          }
        }),
      );
      return { times, rate: times.length / ((performance.now() - startedAt) / 1000) };
    }

    const whole = async () => profile(await post(await page()));
    const withoutPage = async () => { await post(await page()); };
    for (let i = 0; i < 5; i += 1) await whole();
    // The raw loop runs before and after each flow, and each flow's ratio is taken against the
    // mean of the two: this machine's speed drifts by a fifth from minute to minute, and a
    // ceiling measured once, minutes away, would put that drift into the ratio.
    const raws = [await ceiling()];
    const full = await loop(whole, SECONDS);
    raws.push(await ceiling());
    const short = await loop(withoutPage, SECONDS);
    raws.push(await ceiling());
    // What the risk engine costs: the same flow with the business's switch off.
    await server.sql('UPDATE auth_settings SET risk_engine_enabled = false');
    await new Promise((r) => setTimeout(r, 500)); // every node's copy of the policy dropped
    const noRisk = await loop(withoutPage, SECONDS);
    await server.sql('UPDATE auth_settings SET risk_engine_enabled = true');
    raws.push(await ceiling());
    // The floor: only what no durable password sign-in can skip (read the account, verify,
    // commit a session row), in one process on the same core, four at a time.
    const floorArgs = ['hashing', 'floor', '--email', people[0].email, '--password', PASSWORD, '--seconds', String(SECONDS), '--concurrency', String(CONCURRENCY)];
    const floor = JSON.parse(await server.cli(floorArgs, twoCores ? { onCpu: 0 } : {})).per_second;
    raws.push(await ceiling());
    /** The raw rate around the `i`th flow: the mean of the runs just before and just after it. */
    const around = (i) => (raws[i] + raws[i + 1]) / 2;

    // Each request alone: CPU and transactions per request.
    const signedIn = await post();
    const commits = async () => Number(await server.sql('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()'));
    const alone = [];
    for (const [name, step] of [['GET /signin', () => page()], ['POST /api/sign-in', () => post()], ['GET /profile (signed in)', () => profile(signedIn)]]) {
      const pg = postgresPids();
      await new Promise((r) => setTimeout(r, 600)); // the statistics of the last run flushed
      const [server0, pg0, commits0] = [await cpuSeconds([server.pid]), await cpuSeconds(pg), await commits()];
      const { times } = await loop(step, 4);
      await new Promise((r) => setTimeout(r, 600));
      const [server1, pg1, commits1] = [await cpuSeconds([server.pid]), await cpuSeconds(pg), await commits()];
      const n = times.length;
      // The two statistics reads are transactions too.
      alone.push({ request: name, requests: n, server_cpu_ms: ((server1 - server0) * 1000) / n, postgres_cpu_ms: ((pg1 - pg0) * 1000) / n, transactions: (commits1 - commits0 - 1) / n });
    }
    result = {
      date: new Date().toISOString().slice(0, 10),
      cores_measured: 1,
      concurrency: CONCURRENCY,
      seconds: SECONDS,
      sign_ins_per_second: full.rate,
      p50_ms: percentile(full.times, 50),
      p99_ms: percentile(full.times, 99),
      raw_verifies_per_second: around(0),
      raw_runs: raws,
      ratio: full.rate / around(0),
      without_signed_in_page: { sign_ins_per_second: short.rate, p50_ms: percentile(short.times, 50), p99_ms: percentile(short.times, 99), raw_verifies_per_second: around(1), ratio: short.rate / around(1) },
      floor: { sign_ins_per_second: floor, raw_verifies_per_second: around(3), ratio: floor / around(3) },
      without_risk_engine: { sign_ins_per_second: noRisk.rate, p50_ms: percentile(noRisk.times, 50), p99_ms: percentile(noRisk.times, 99), raw_verifies_per_second: around(2), ratio: noRisk.rate / around(2) },
      alone,
    };
  } finally {
    unpin();
  }
} finally {
  await server.stop();
}

const f = (x, d = 1) => x.toFixed(d);
const short = result.without_signed_in_page;
const noRisk = result.without_risk_engine;
const table = `| flow (1 core, ${CONCURRENCY} at once) | sign-ins/s | p50 (ms) | p99 (ms) | raw argon2id verifies/s (1 core, before and after) | ratio |
|---|---:|---:|---:|---:|---:|
| page, post, signed-in page | ${f(result.sign_ins_per_second)} | ${f(result.p50_ms)} | ${f(result.p99_ms)} | ${f(result.raw_verifies_per_second)} | ${f(result.ratio, 2)} |
| page, post (sets the session) | ${f(short.sign_ins_per_second)} | ${f(short.p50_ms)} | ${f(short.p99_ms)} | ${f(short.raw_verifies_per_second)} | ${f(short.ratio, 2)} |
| page, post, risk engine off | ${f(noRisk.sign_ins_per_second)} | ${f(noRisk.p50_ms)} | ${f(noRisk.p99_ms)} | ${f(noRisk.raw_verifies_per_second)} | ${f(noRisk.ratio, 2)} |
| floor: read the account, verify, commit a session (no HTTP) | ${f(result.floor.sign_ins_per_second)} | | | ${f(result.floor.raw_verifies_per_second)} | ${f(result.floor.ratio, 2)} |

| request alone | server CPU (ms) | Postgres CPU (ms) | transactions (each statement outside one counts) |
|---|---:|---:|---:|
${result.alone.map((a) => `| ${a.request} | ${f(a.server_cpu_ms, 2)} | ${f(a.postgres_cpu_ms, 2)} | ${f(a.transactions, 1)} |`).join('\n')}
`;
console.log(table);
if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, table);
if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, `${JSON.stringify(result, null, 2)}\n`);
