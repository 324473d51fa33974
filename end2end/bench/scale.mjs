// Owns the data-scale benchmark: the same measurements at 10k, 100k and 1M customers
// (BENCH_SCALE_SIZES to choose), each customer with a session and a refresh token, so that the
// tables a sign-in and a refresh touch are as big as a real customer base makes them. At each
// size: password sign-in (one account on its usual device, one at a time), token refresh (one
// app's refresh token rotated, one at a time) and the console's customer search (a support
// agent; an address substring and the newest first), p50 and p99 of each. Each should stay flat
// as the data grows. Prints the table, writes it to BENCH_OUT and the figures as JSON to
// BENCH_JSON when those are set.
//
//   CIAM_SERVER_BIN=…/release/server node bench/scale.mjs   (make bench does this)
import { writeFile } from 'node:fs/promises';

import { startServer } from '../support/server.mjs';
import { caller } from './accounts.mjs';
import { percentile } from './load.mjs';
import { signedUp, codeFlow, PASSWORD } from '../cluster/people.mjs';

const SIZES = (process.env.BENCH_SCALE_SIZES || '10000,100000,1000000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS || 100);
const STAFF_PASSWORD = 'violet tractor sings at dawn';

/** p50 and p99 of `rounds` sequential runs of `once` (after five to warm up), in ms. */
async function timed(once, rounds = ROUNDS) {
  for (let i = 0; i < 5; i += 1) await once();
  const times = [];
  for (let i = 0; i < rounds; i += 1) {
    const t = performance.now();
    await once();
    times.push(performance.now() - t);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json' } });
const results = [];
try {
  const app = JSON.parse(
    await server.cli(['client', 'create', '--name', 'Shop', '--first-party', '--redirect-uri', 'https://shop.example/cb', '--json']),
  );
  app.redirect_uri = 'https://shop.example/cb';
  await server.cli(['settings', 'mfa', 'optional']);
  let seeded = 0;
  for (const size of SIZES) {
    const started = performance.now();
    await server.cli(['seed', '--customers', String(size - seeded), '--password', STAFF_PASSWORD]);
    // A session and a refresh token for every customer who has none yet.
    await server.sql(`
      INSERT INTO sessions (id, user_id, data, expires_at)
      SELECT encode(sha256(u.id::text::bytea), 'hex'), u.id, '{}'::jsonb, now() + interval '14 days'
      FROM users u WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id);
      INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scopes, auth_time, expires_at, family_expires_at)
      SELECT sha256(('refresh ' || u.id)::bytea), gen_random_uuid(), '${app.client_id}', u.id,
             ARRAY['openid', 'offline_access'], now(), now() + interval '30 days', now() + interval '90 days'
      FROM users u WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.user_id = u.id);`);
    // As an operator would after a bulk load: statistics fresh, and the load's dirty pages
    // written out before measuring rather than while.
    for (const table of ['users', 'sessions', 'refresh_tokens']) await server.sql(`VACUUM ANALYZE ${table}`);
    await server.sql('CHECKPOINT');
    const seedSeconds = (performance.now() - started) / 1000;
    seeded = size;

    // A person of this size's database: their sign-ins, and their app's refresh token.
    const email = `scale-${size}@bench.example`;
    const person = await signedUp(server, email, server.baseURL);
    const signIn = await timed(async () => {
      const res = await person.post(server.baseURL, 'sign-in', { email, password: PASSWORD });
      if (res.status !== 200) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
    });
    let { refresh_token: refreshToken } = await codeFlow(server, person, server.baseURL, app, { scope: 'openid offline_access' });
    const basic = `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`;
    const refresh = await timed(async () => {
      const res = await fetch(`${server.baseURL}/oauth2/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });
      if (res.status !== 200) throw new Error(`refresh: ${res.status} ${await res.text()}`);
      refreshToken = (await res.json()).refresh_token;
    });

    // A support agent searching, as the console does.
    const link = (await server.cli(['admin', 'create', '--email', `support-${size}@bench.example`, '--role', 'support']))
      .match(/https?:\/\/\S+/)[0];
    let cookie = '';
    const post = caller(server);
    const reset = await post('reset-password', { token: new URL(link).searchParams.get('token'), password: STAFF_PASSWORD });
    if (reset.status !== 200) throw new Error(`staff sign-in: ${reset.status} ${await reset.text()}`);
    cookie = reset.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('session='));
    const search = async (fields) => {
      const res = await post('console/customers', fields, cookie);
      if (res.status !== 200) throw new Error(`search: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    const substring = await timed(() => search({ 'query[q]': 'ada ab' }), 30);
    const newest = await timed(() => search({ 'query[sort]': 'newest' }), 30);
    results.push({ customers: size, seed_seconds: seedSeconds, sign_in: signIn, refresh, search_substring: substring, search_newest: newest });
    console.log(JSON.stringify(results.at(-1)));
  }
} finally {
  await server.stop();
}

const f = (x) => x.toFixed(1);
const table = [
  '| customers (each with a session and a refresh token) | seeding (s) | sign-in p50 / p99 (ms) | refresh p50 / p99 (ms) | search "ada ab" p50 / p99 (ms) | newest first p50 / p99 (ms) |',
  '|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.customers.toLocaleString('en')} | ${r.seed_seconds.toFixed(0)} | ${f(r.sign_in.p50)} / ${f(r.sign_in.p99)} | ` +
      `${f(r.refresh.p50)} / ${f(r.refresh.p99)} | ${f(r.search_substring.p50)} / ${f(r.search_substring.p99)} | ` +
      `${f(r.search_newest.p50)} / ${f(r.search_newest.p99)} |`,
  ),
  '',
].join('\n');
console.log(table);
if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, table);
if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), results }, null, 2)}\n`);
