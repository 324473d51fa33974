// Owns the policy decision benchmark: `POST /api/v1/decisions` end to end (HTTP, the app's
// client authentication, the one query for the person, the cached policies, Cedar's answer)
// against this server's release build on a fresh database, one request at a time over a kept
// connection. Two series: the same question again (the per-node decision cache answers) and a
// new resource each time (evaluated). Prints p50 and p99 of each, and writes the table to
// BENCH_OUT when that is set.
//
//   CIAM_SERVER_BIN=…/release/server node bench/decisions.mjs   (make bench does this)
import { writeFile, mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { startServer } from '../support/server.mjs';

const PER_SERIES = Number(process.env.BENCH_DECISIONS || 2000);
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

  const pct = (xs, p) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  };
  const row = (name, xs) => `| ${name} | ${xs.length} | ${pct(xs, 50).toFixed(2)} | ${pct(xs, 99).toFixed(2)} |`;
  const table = [
    `Policy decisions over HTTP, sequential, kept connection (${cpus().length} cores, ${new Date().toISOString().slice(0, 10)})`,
    '',
    '| | decisions | p50 (ms) | p99 (ms) |',
    '|---|---:|---:|---:|',
    row('the same question (cached)', times.same),
    row('a new resource each time (evaluated)', times.distinct),
  ].join('\n');
  console.log(table);
  if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, `${table}\n`);
} finally {
  await server.stop();
}
