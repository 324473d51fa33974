// Owns the policy decision benchmark: `POST /api/v1/decisions` end to end (HTTP, the app's
// client authentication, the one query for the person, the cached policies, Cedar's answer)
// against this server's release build on a fresh database. Two questions: the same one again
// (the per-node decision cache answers) and a new resource each time (evaluated). First one
// request at a time from Node's fetch (the latency a Node back end sees, its own client time
// included); then wrk from CPU 1 with the server and Postgres pinned to CPU 0, at 1 and at 4
// kept connections (the server's latency, the client's cost kept off its core). Prints p50 and
// p99 of each, and writes the tables to BENCH_OUT when that is set.
//
//   CIAM_SERVER_BIN=…/release/server node bench/decisions.mjs   (make bench does this)
import { writeFile, mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { startServer } from '../support/server.mjs';
import { percentile, pin, pinPostgres, wrk } from './load.mjs';

const PER_SERIES = Number(process.env.BENCH_DECISIONS || 2000);
const SECONDS = Number(process.env.BENCH_SECONDS || 5);
/** Fresh resources for the evaluated wrk runs: more than any run asks for. */
const POOL = 200_000;
const EMAIL = 'agent@example.com';
const PASSWORD = 'violet tractor sings at dawn';

const SCHEMA = `
entity Group;
entity Person in [Group] {
  roles: Set<String>, permissions: Set<String>, email_verified: Bool,
  country?: String, region?: String,
};
entity Ticket { region: String };
action read appliesTo { principal: Person, resource: Ticket, context: { hour: Long } };
`;
const POLICIES = `
@id("support-reads-tickets-in-working-hours")
permit (principal, action == Action::"read", resource is Ticket)
when { principal.roles.contains("support-agent") && context.hour >= 9 && context.hour < 17 };
`;

const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json' } });
try {
  const registered = await fetch(`${server.baseURL}/api/register`, {
    method: 'POST',
    headers: { Accept: 'application/json', Origin: server.baseURL, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'consent[terms]': '1', 'consent[privacy]': '1', email: EMAIL, display_name: 'Agent', password: PASSWORD }),
  });
  if (registered.status !== 200) throw new Error(`register: ${registered.status}`);
  const sub = await server.sql(`SELECT id FROM users WHERE email = '${EMAIL}'`);

  const app = JSON.parse(
    await server.cli(['client', 'create', '--name', 'Helpdesk', '--redirect-uri', 'https://helpdesk.example/cb', '--first-party', '--json']),
  );
  const dir = await mkdtemp(join(tmpdir(), 'ciam-bench-'));
  await writeFile(join(dir, 'app.cedarschema'), SCHEMA);
  await writeFile(join(dir, 'app.cedar'), POLICIES);
  await server.cli(['policy', 'set', '--client', app.client_id, '--schema', join(dir, 'app.cedarschema'), '--policies', join(dir, 'app.cedar')]);
  await server.cli(['role', 'define', '--client', app.client_id, '--name', 'support-agent', '--permission', 'tickets:read']);
  await server.cli(['role', 'assign', '--client', app.client_id, '--role', 'support-agent', '--email', EMAIL]);

  const authorization = `Basic ${Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(app.client_secret)}`).toString('base64')}`;
  const ask = async (ticket) => {
    const started = performance.now();
    const res = await fetch(`${server.baseURL}/api/v1/decisions`, {
      method: 'POST',
      headers: { Authorization: authorization, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        subject: sub,
        action: 'read',
        resource: { type: 'Ticket', id: ticket, attributes: { region: 'Bavaria' }, parents: [] },
        context: { hour: 10 },
      }),
    });
    const body = await res.json();
    const ms = performance.now() - started;
    if (res.status !== 200 || body.decision !== 'allow') throw new Error(`decision: ${res.status} ${JSON.stringify(body)}`);
    return ms;
  };

  for (let i = 0; i < 200; i += 1) await ask(`warm-${i}`);
  const times = { same: [], distinct: [] };
  for (let i = 0; i < PER_SERIES; i += 1) {
    times.same.push(await ask('t-1'));
    times.distinct.push(await ask(`t-${i + 2}`));
  }

  const row = (name, xs) => `| ${name} | ${xs.length} | ${percentile(xs, 50).toFixed(2)} | ${percentile(xs, 99).toFixed(2)} |`;

  // The same questions from wrk: one body, or a new ticket id from the pool file at each request.
  const question = (ticket) =>
    JSON.stringify({ subject: sub, action: 'read', resource: { type: 'Ticket', id: ticket, attributes: { region: 'Bavaria' }, parents: [] }, context: { hour: 10 } });
  const runs = [];
  pin(server.pid);
  const unpin = pinPostgres();
  try {
    for (const connections of [1, 4]) {
      for (const [name, ticket] of [['the same question (cached)', 't-1'], ['a new resource each time (evaluated)', '{token}']]) {
        const pool = ticket === '{token}' ? join(dir, `tickets-${connections}.txt`) : '';
        if (pool) await writeFile(pool, `${Array.from({ length: POOL }, (_, i) => `w${connections}-${i}`).join('\n')}\n`);
        const request = { method: 'POST', auth: authorization, body: question(ticket), contentType: 'application/json', pool, connections };
        const result = await wrk(`${server.baseURL}/api/v1/decisions`, request, SECONDS);
        if (result.bad > 0 || result.errors) throw new Error(`decisions under wrk: ${result.bad} non-2xx ${result.errors}`);
        runs.push({ connections, name, ...result });
      }
    }
  } finally {
    unpin();
  }
  const table = [
    `Policy decisions over HTTP (${cpus().length} cores, ${new Date().toISOString().slice(0, 10)})`,
    '',
    'Node fetch, one request at a time over a kept connection, the client on any core:',
    '',
    '| | decisions | p50 (ms) | p99 (ms) |',
    '|---|---:|---:|---:|',
    row('the same question (cached)', times.same),
    row('a new resource each time (evaluated)', times.distinct),
    '',
    `wrk -t1 on CPU 1, ${SECONDS} s per run; the server and Postgres on CPU 0:`,
    '',
    '| connections | | decisions/s | p50 (ms) | p90 (ms) | p99 (ms) |',
    '|---:|---|---:|---:|---:|---:|',
    ...runs.map((r) => `| ${r.connections} | ${r.name} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p90.toFixed(2)} | ${r.p99.toFixed(2)} |`),
  ].join('\n');
  console.log(table);
  if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, `${table}\n`);
} finally {
  await server.stop();
}
