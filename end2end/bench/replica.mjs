// Owns the replica benchmark: a private Postgres primary and a streaming hot standby of it
// (`faults/postgres.mjs`), BENCH_CUSTOMERS seeded customers (default 100,000, `server seed`),
// and the management API's customer search (`q=ada ab`, and the newest first) from
// BENCH_CONCURRENCY clients at once (default 4) for BENCH_SECONDS each (default 10): first the
// server without CIAM_DATABASE_REPLICA_URL, then started again with it. For each run: searches
// a second, p50 and p99, and the CPU time the primary's and the replica's Postgres processes
// (each postmaster and its children) used, in all and per search: what the replica takes off
// the primary. Prints the table and writes it to BENCH_OUT, the figures as JSON to BENCH_JSON
// (by default target/bench-replica.md and .json under the repository's root).
//
//   CIAM_SERVER_BIN=…/release/server node bench/replica.mjs
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { commandsFor, freePort, siteRoot, spawnServer } from '../support/server.mjs';
import { startPrivatePostgres, startReplica } from '../faults/postgres.mjs';
import { cpuSeconds, percentile } from './load.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS || 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 4);
const OUT = process.env.BENCH_OUT || join(repoRoot, 'target', 'bench-replica.md');
const JSON_OUT = process.env.BENCH_JSON || join(repoRoot, 'target', 'bench-replica.json');
const PASSWORD = 'violet tractor sings at dawn';

/** The pids of the Postgres server of data directory `data`: its postmaster and its children. */
async function processesOf(data) {
  const postmaster = (await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0].trim();
  const pids = [postmaster];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === postmaster) pids.push(entry);
    } catch {
      // exited
    }
  }
  return pids;
}

/** CPU seconds each process of the server of `data` has used so far, by pid. */
async function cpuOf(data) {
  const used = new Map();
  for (const pid of await processesOf(data)) used.set(pid, await cpuSeconds([pid]));
  return used;
}

/** CPU seconds used between two `cpuOf` readings (a process started meanwhile counts from zero). */
function spent(before, after) {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** `CONCURRENCY` clients searching `url` back to back for `seconds`: the latencies, and the count of failures. */
async function drive(url, auth, seconds) {
  const times = [];
  const failures = [];
  const until = performance.now() + seconds * 1000;
  async function client() {
    while (performance.now() < until) {
      const t = performance.now();
      const res = await fetch(url, { headers: { Authorization: auth } });
      await res.arrayBuffer();
      if (res.status === 200) times.push(performance.now() - t);
      else failures.push(res.status);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return { times, failures };
}

const primary = await startPrivatePostgres();
let replica;
const cwd = await mkdtemp(join(tmpdir(), 'ciam-bench-replica-'));
const results = [];
let seedSeconds = 0;
try {
  replica = await startReplica(primary);
  const port = await freePort();
  const env = {
    DATABASE_URL: primary.url,
    CIAM_LISTEN: `127.0.0.1:${port}`,
    CIAM_PUBLIC_URL: `http://localhost:${port}`,
    LEPTOS_SITE_ROOT: siteRoot,
    RUST_LOG: 'warn',
    CIAM_LOG_FORMAT: 'json',
    CIAM_API_RATE_LIMIT: '1000000',
  };
  const { cli, sql } = commandsFor(env, cwd);
  const started = performance.now();
  await cli(['seed', '--customers', String(CUSTOMERS), '--password', PASSWORD]);
  // As an operator would after a bulk load: the trigram indexes' pending entries merged, the
  // statistics fresh, the dirty pages written out before measuring rather than while.
  await sql('VACUUM ANALYZE users');
  await sql('CHECKPOINT');
  await replica.caughtUp(600_000);
  seedSeconds = (performance.now() - started) / 1000;
  const service = JSON.parse(await cli(['client', 'create', '--name', 'Sync', '--service', '--scope', 'users:read', '--json']));
  const basic = `Basic ${Buffer.from(`${service.client_id}:${service.client_secret}`).toString('base64')}`;

  const searches = [
    ['"ada ab"', 'q=ada+ab'],
    ['newest first', 'sort=newest'],
  ];
  for (const [setup, extra] of [
    ['primary only', {}],
    ['with the replica', { CIAM_DATABASE_REPLICA_URL: replica.url }],
  ]) {
    const node = await spawnServer({ port, env: { ...env, ...extra }, cwd, name: `server (${setup})` });
    try {
      const granted = await fetch(`${node.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'users:read' }),
      });
      if (granted.status !== 200) throw new Error(`client credentials: ${granted.status} ${await granted.text()}`);
      const auth = `Bearer ${(await granted.json()).access_token}`;
      for (const [search, query] of searches) {
        const url = `${node.url}/api/v1/people?${query}`;
        // Warm: the pools' connections made, the plans and pages cached.
        await drive(url, auth, Math.min(2, SECONDS));
        const before = [await cpuOf(primary.data), await cpuOf(replica.data), await cpuSeconds([node.pid])];
        const t = performance.now();
        const { times, failures } = await drive(url, auth, SECONDS);
        const elapsed = (performance.now() - t) / 1000;
        const primaryCpu = spent(before[0], await cpuOf(primary.data));
        const replicaCpu = spent(before[1], await cpuOf(replica.data));
        const serverCpu = (await cpuSeconds([node.pid])) - before[2];
        if (failures.length > 0) throw new Error(`${setup}, ${search}: ${failures.length} failed (${[...new Set(failures)].join(', ')})`);
        const n = times.length;
        results.push({
          setup,
          search,
          searches: n,
          rate: n / elapsed,
          p50: percentile(times, 50),
          p99: percentile(times, 99),
          primary_cpu_seconds: primaryCpu,
          replica_cpu_seconds: replicaCpu,
          server_cpu_seconds: serverCpu,
          primary_cpu_ms_per_search: (primaryCpu * 1000) / n,
          replica_cpu_ms_per_search: (replicaCpu * 1000) / n,
        });
        console.log(JSON.stringify(results.at(-1)));
      }
    } finally {
      await node.stop();
    }
  }
} finally {
  await replica?.destroy();
  await primary.destroy();
  await rm(cwd, { recursive: true, force: true });
}

const f = (x, digits = 1) => x.toFixed(digits);
const table = [
  `Management API search at ${CUSTOMERS.toLocaleString('en')} customers, ${CONCURRENCY} at once for ${SECONDS} s each, ` +
    `on a primary with a streaming replica (${cpus().length} cores, ${new Date().toISOString().slice(0, 10)}; seeding and replay ${seedSeconds.toFixed(0)} s)`,
  '',
  '| server | search | searches/s | p50 / p99 (ms) | primary CPU (s) | replica CPU (s) | primary CPU ms/search | replica CPU ms/search |',
  '|---|---|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.setup} | ${r.search} | ${f(r.rate, 0)} | ${f(r.p50)} / ${f(r.p99)} | ${f(r.primary_cpu_seconds, 2)} | ` +
      `${f(r.replica_cpu_seconds, 2)} | ${f(r.primary_cpu_ms_per_search, 2)} | ${f(r.replica_cpu_ms_per_search, 2)} |`,
  ),
  '',
].join('\n');
console.log(table);
await mkdir(dirname(OUT), { recursive: true });
await writeFile(OUT, table);
await mkdir(dirname(JSON_OUT), { recursive: true });
await writeFile(JSON_OUT, `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), customers: CUSTOMERS, seconds: SECONDS, concurrency: CONCURRENCY, results }, null, 2)}\n`);
