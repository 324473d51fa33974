// Owns the management API's read benchmark: this server's release build on a fresh database
// with 1000 people made through the API, pinned with Postgres to CPU 0 while wrk drives it from
// CPU 1 (32 connections). Two reads a partner back end makes: one person by id, and a search
// page of 50. Each read is audited (one row written per request, as the API promises), and
// the bearer token is checked at each. Prints requests per second and per CPU second (this
// server's CPU plus Postgres's: what one fully used core serves), and writes the table to
// BENCH_OUT when that is set.
//
//   CIAM_SERVER_BIN=…/release/server node bench/management.mjs   (make bench does this)
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';

import { startServer } from '../support/server.mjs';
import { cpuSeconds, pin, pinPostgres, postgresPids, wrk } from './load.mjs';

const DURATION = process.env.BENCH_SECONDS || '5';
const PEOPLE = 1000;

const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json', CIAM_API_RATE_LIMIT: '1000000' } });
try {
  const app = JSON.parse(
    await server.cli(['client', 'create', '--name', 'Bench', '--service', '--scope', 'users:read', '--scope', 'users:write', '--json']),
  );
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(app.client_secret)}`).toString('base64')}`;
  const issued = await (await fetch(`${server.baseURL}/oauth2/token`, {
    method: 'POST',
    headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  })).json();
  const auth = `Bearer ${issued.access_token}`;
  let someone;
  for (let i = 0; i < PEOPLE; i += 1) {
    const res = await fetch(`${server.baseURL}/api/v1/people`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: `person-${i}@example.com`, display_name: `Person ${i}` }),
    });
    if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
    someone = (await res.json()).id;
  }

  const reads = [
    ['one person by id', `${server.baseURL}/api/v1/people/${someone}`],
    ['a search page of 50', `${server.baseURL}/api/v1/people?q=person&limit=50`],
  ];
  pin(server.pid);
  const unpin = pinPostgres();
  const rows = [];
  try {
    for (const [name, url] of reads) {
      await wrk(url, { auth }, 2);
      const database = postgresPids();
      const before = [await cpuSeconds([server.pid]), await cpuSeconds(database)];
      const result = await wrk(url, { auth }, DURATION);
      const own = (await cpuSeconds([server.pid])) - before[0];
      const db = (await cpuSeconds(database)) - before[1];
      const served = result.rate * Number(DURATION);
      rows.push({ name, ...result, perCpu: own + db > 0 ? served / (own + db) : 0, cost: [(own * 1e6) / served, (db * 1e6) / served] });
    }
  } finally {
    unpin();
  }
  const table = [
    `Management API reads, ${DURATION} s each, wrk -t1 -c32 on CPU 1; the server and Postgres on CPU 0 (${cpus().length} cores, ${new Date().toISOString().slice(0, 10)})`,
    '',
    '| read | requests/s | per CPU second | server µs/req | Postgres µs/req | mean latency | non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.rate.toFixed(0)} | ${r.perCpu.toFixed(0)} | ${r.cost[0].toFixed(0)} | ${r.cost[1].toFixed(0)} | ${r.latency} | ${r.bad} |`),
  ].join('\n');
  console.log(table);
  if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, `${table}\n`);
} finally {
  await server.stop();
}
