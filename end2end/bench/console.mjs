// Owns the console benchmark: on a fresh database of BENCH_CUSTOMERS seeded customers (default
// 1,000,000, `server seed`), the customer search as the console calls it (substring, prefix,
// phone, id, filters, a deep page), the dashboard, and the import of 100,000 rows
// (`server import`, bcrypt hashes, checked and inserted), then as many again uploaded to the
// console's import page (the background job, from the upload to its report). Prints a table; writes it to
// BENCH_OUT when that is set.
//
//   CIAM_SERVER_BIN=…/release/server node bench/console.mjs   (make bench does this)
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';

import { startServer } from '../support/server.mjs';
import { caller } from './accounts.mjs';
import { percentile } from './load.mjs';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS || 1_000_000);
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS || 100_000);
const PER_QUERY = Number(process.env.BENCH_SEARCHES || 50);
const PASSWORD = 'violet tractor sings at dawn';

const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json' } });
try {
  let started = performance.now();
  await server.cli(['seed', '--customers', String(CUSTOMERS), '--password', PASSWORD]);
  const seedSeconds = (performance.now() - started) / 1000;
  // As an operator would after a bulk load: the trigram indexes' pending entries merged, the
  // statistics fresh (autovacuum would do both within minutes, while the benchmark runs).
  await server.sql('VACUUM ANALYZE users');

  // Staff signed in (the benchmark's database lets staff sign in with a password alone).
  await server.cli(['settings', 'mfa', 'optional']);
  const link = async (email, role) =>
    (await server.cli(['admin', 'create', '--email', email, '--role', role])).match(/https?:\/\/\S+/)[0];
  const auditorLink = await link('auditor@bench.example', 'auditor');
  const supportLink = await link('support@bench.example', 'support');
  const adminLink = await link('admin@bench.example', 'admin');
  let cookie = '';
  const post = caller(server);
  const call = async (endpoint, fields) => {
    const res = await post(endpoint, fields, cookie);
    const set = res.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('session='));
    if (set) cookie = set;
    return res;
  };
  const signIn = async (link) => {
    cookie = '';
    const token = new URL(link).searchParams.get('token');
    const res = await call('reset-password', { token, password: PASSWORD });
    if (res.status !== 200) throw new Error(`staff sign-in: ${res.status} ${await res.text()}`);
  };
  await signIn(supportLink);

  const sample = (await server.sql("SELECT email || '|' || id || '|' || coalesce(phone, '') FROM users WHERE phone IS NOT NULL AND role = 'customer' LIMIT 1")).split('|');
  const [email, id, phone] = sample;
  const queries = [
    ['newest first, no filter', { sort: 'newest' }],
    ['address substring', { q: email.split('@')[0].split('.').slice(0, 2).join('.') }],
    ['name substring', { q: 'ada ab' }],
    ['rare substring', { q: email.split('@')[0] }],
    ['2-letter prefix', { q: 'zo' }],
    ['phone prefix', { q: phone.slice(0, 9) }],
    ['id', { q: id }],
    ['unverified, with MFA filter', { verified: 'no', mfa: 'no' }],
    ['created range + sort by address', { created_from: '2025-01-01', created_to: '2025-03-31', sort: 'email' }],
    ['signed in last 30 days', { signed_in_from: new Date(Date.now() - 30 * 86400e3).toISOString().slice(0, 10) }],
  ];
  const rows = [];
  for (const [name, fields] of queries) {
    const form = Object.fromEntries(Object.entries(fields).map(([k, v]) => [`query[${k}]`, v]));
    const times = [];
    let count = 0;
    for (let i = 0; i < PER_QUERY; i += 1) {
      const t = performance.now();
      const res = await call('console/customers', form);
      const body = await res.json();
      times.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${JSON.stringify(body)}`);
      count = body.rows.length;
    }
    rows.push(`| ${name} | ${count} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 99).toFixed(1)} |`);
  }
  // The next page of a broad search (keyset: as cheap as the first).
  {
    const times = [];
    for (let i = 0; i < PER_QUERY; i += 1) {
      const first = await call('console/customers', { 'query[q]': 'example' });
      const { next } = await first.json();
      const t = performance.now();
      const res = await call('console/customers', { 'query[q]': 'example', 'query[cursor]': next });
      await res.json();
      times.push(performance.now() - t);
    }
    rows.push(`| next page of a broad substring | 50 | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 99).toFixed(1)} |`);
  }

  // The dashboard, as an auditor.
  await signIn(auditorLink);
  const dash = [];
  for (let i = 0; i < 20; i += 1) {
    const t = performance.now();
    const res = await call('console/dashboard', { days: '90' });
    await res.json();
    if (res.status !== 200) throw new Error(`dashboard: ${res.status}`);
    dash.push(performance.now() - t);
  }

  // Import: IMPORT_ROWS rows with bcrypt hashes (all one hash: the import checks, it does not hash).
  const dir = await mkdtemp(join(tmpdir(), 'ciam-import-'));
  const file = join(dir, 'customers.csv');
  const hash = '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy';
  const lines = ['email,display_name,email_verified,phone,password_hash'];
  for (let i = 0; i < IMPORT_ROWS; i += 1) lines.push(`imported.${i}@import.example,Imported Customer ${i},true,,${hash}`);
  await writeFile(file, `${lines.join('\n')}\n`);
  started = performance.now();
  await server.cli(['import', '--file', file]);
  const importSeconds = (performance.now() - started) / 1000;

  // The same number of rows through the console: uploaded by an admin, run by the worker.
  await signIn(adminLink);
  const upload = new FormData();
  upload.set('format', 'auto');
  upload.set('mode', 'import');
  upload.set('confirm', 'yes');
  const consoleRows = lines.slice(1).map((l) => l.replace('imported.', 'uploaded.'));
  upload.set('file', new Blob([[lines[0], ...consoleRows].join('\n')], { type: 'text/csv' }), 'customers.csv');
  started = performance.now();
  const queued = await fetch(`${server.baseURL}/admin/import`, {
    method: 'POST',
    headers: { Origin: server.baseURL, Cookie: cookie },
    body: upload,
    redirect: 'manual',
  });
  const job = new URL(queued.headers.get('location') ?? '', server.baseURL).searchParams.get('job');
  if (queued.status !== 303 || !job) throw new Error(`console import: ${queued.status} ${queued.headers.get('location')}`);
  let report;
  for (;;) {
    report = (await (await call('console/imports', { job })).json()).chosen;
    if (report.finished) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const consoleImportSeconds = (performance.now() - started) / 1000;
  if (report.imported !== IMPORT_ROWS) throw new Error(`console import: ${JSON.stringify(report)}`);

  const table = [
    `Console at ${CUSTOMERS.toLocaleString('en')} customers (${cpus().length} cores, ${new Date().toISOString().slice(0, 10)})`,
    '',
    `Seeding: ${seedSeconds.toFixed(0)} s (${Math.round(CUSTOMERS / seedSeconds).toLocaleString('en')} a second).`,
    '',
    `| search (${PER_QUERY} each, one page of 50) | rows | p50 (ms) | p99 (ms) |`,
    '|---|---:|---:|---:|',
    ...rows,
    '',
    `Dashboard over 90 days: p50 ${percentile(dash, 50).toFixed(1)} ms, p99 ${percentile(dash, 99).toFixed(1)} ms.`,
    '',
    `Import of ${IMPORT_ROWS.toLocaleString('en')} rows (checked, then inserted): ${importSeconds.toFixed(1)} s, ${Math.round(IMPORT_ROWS / importSeconds).toLocaleString('en')} rows a second (the command, start to end).`,
    '',
    `The same through the console (upload, background job, report): ${consoleImportSeconds.toFixed(1)} s, ${Math.round(IMPORT_ROWS / consoleImportSeconds).toLocaleString('en')} rows a second.`,
  ].join('\n');
  console.log(table);
  if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, `${table}\n`);
} finally {
  await server.stop();
}
