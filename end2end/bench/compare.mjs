// Owns the side-by-side benchmark of the OpenID provider endpoints: this server (release build,
// its own fresh database) against npm oidc-provider (one Node process, configured alike, see
// oidc-provider.mjs), each pinned to CPU 0 with wrk driving it from CPU 1. Postgres is pinned to
// CPU 0 too while it runs, so "per core" counts the database work of whichever side has one. Three
// runs, each with both sides started afresh (RUNS below): the peer in memory with RS256 ID tokens
// (every endpoint); the peer storing in Postgres (its own fresh database, bench_oidc_peer, see
// oidc-postgres.mjs) with RS256; and that peer with both sides' web client on ES256 ID tokens —
// the last two only on the endpoints its storage or algorithm changes. Per run it prints a
// Markdown table of requests per second and per CPU second (a side with Postgres counted with
// every Postgres process), the ratios, the CPU time per request and any non-2xx answers; then a
// summary of the code → tokens and refresh ratios across the runs; and writes all of it to
// BENCH_OUT when that is set. BENCH_ONLY=refresh,userinfo runs only the endpoints whose names
// contain one of those words; BENCH_RUNS=memory,es256 only those runs (memory, postgres, es256).
//
//   CIAM_SERVER_BIN=…/release/server node bench/compare.mjs   (make bench does this)
import { spawn, execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { startServer } from '../support/server.mjs';
import { cpuSeconds, pin, pinPostgres, postgresPids, twoCores, wrk } from './load.mjs';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const DURATION = process.env.BENCH_SECONDS || '5';
const WARMUP = '2';
const CONNECTIONS = '32';
/**
 * Single-use tokens per pool: enough for the warm-up and the measured run at a high rate (a
 * quarter for the warm-up: 7,500 a second over 2 s, then 9,000 a second over 5 s; this server's
 * code → tokens and refresh pass 3,000 a second with ES256 ID tokens).
 */
const POOL = Number(process.env.BENCH_POOL_SIZE || 60000);
const WARM_POOL = Math.floor(POOL / 4);
const CALLBACK = 'http://localhost:9/cb';
/** The Postgres server both sides store in; the peer's database is made on it for each run. */
const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const PEER_DATABASE = 'bench_oidc_peer';

/** The endpoints, in the order they are measured (the code pool first: the peer's codes live 60 s). */
const ENDPOINTS = ['authorization code → tokens', 'refresh (rotation)', 'client_credentials (ES256 JWT)', 'userinfo', 'introspection', 'JWKS', 'discovery'];

/**
 * The comparisons: which peer storage, which ID token algorithm on both sides, and which endpoints
 * (parts of their names; all when unset).
 */
const RUNS = [
  { key: 'memory', title: 'Against oidc-provider in memory, RS256 ID tokens', storage: 'memory', alg: 'RS256' },
  { key: 'postgres', title: 'Against oidc-provider storing in Postgres, RS256 ID tokens', storage: 'postgres', alg: 'RS256', endpoints: ['authorization code', 'refresh', 'userinfo', 'introspection'] },
  { key: 'es256', title: 'Against oidc-provider storing in Postgres, ES256 ID tokens on both sides', storage: 'postgres', alg: 'ES256', endpoints: ['authorization code', 'refresh'] },
];

function sha256Hex(value) {
  return createHash('sha256').update(value).digest('hex');
}

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** Splits `lines` into a warm-up pool file and a measured one under `dir`. */
async function pools(dir, name, lines) {
  const warm = join(dir, `${name}-warm.txt`);
  const main = join(dir, `${name}-main.txt`);
  await writeFile(warm, `${lines.slice(0, WARM_POOL).join('\n')}\n`);
  await writeFile(main, `${lines.slice(WARM_POOL).join('\n')}\n`);
  return { warm, main };
}

/** The endpoints both providers serve, as wrk requests (named as in ENDPOINTS). */
function requests(p) {
  const web = basic(p.web.id, p.web.secret);
  return [
    ['authorization code → tokens', p.token, { method: 'POST', auth: web, body: `grant_type=authorization_code&code={token}&redirect_uri=${encodeURIComponent(CALLBACK)}`, pool: p.codes }],
    ['refresh (rotation)', p.token, { method: 'POST', auth: web, body: 'grant_type=refresh_token&refresh_token={token}', pool: p.refresh }],
    ['client_credentials (ES256 JWT)', p.token, { method: 'POST', auth: basic(p.service.id, p.service.secret), body: 'grant_type=client_credentials&scope=orders.read' }],
    ['userinfo', p.userinfo, { auth: `Bearer ${p.accessToken}` }],
    ['introspection', p.introspect, { method: 'POST', auth: web, body: `token=${p.accessToken}` }],
    ['JWKS', p.jwks, {}],
    ['discovery', p.discovery, {}],
  ];
}

/** The endpoints comparison `spec` measures: its own, narrowed by BENCH_ONLY (parts of names). */
function selected(spec) {
  const only = (process.env.BENCH_ONLY || '').split(',').filter(Boolean);
  const matches = (parts, name) => parts.some((part) => name.includes(part));
  return ENDPOINTS.filter((name) => (!spec.endpoints || matches(spec.endpoints, name)) && (!only.length || matches(only, name)));
}

/**
 * Measures the endpoints `names` of provider `p`; the code pool goes first (codes live 60 s).
 * Besides the rate, counts the CPU time the provider (and its database) spent, for requests per
 * CPU second: what one fully used core would serve.
 */
async function measure(p, names) {
  const results = [];
  for (const [name, url, req] of requests(p)) {
    if (!names.includes(name)) continue;
    const pooled = req.pool ? { warm: { ...req, pool: req.pool.warm }, main: { ...req, pool: req.pool.main } } : { warm: req, main: req };
    await wrk(url, { ...pooled.warm, connections: CONNECTIONS }, WARMUP);
    const database = p.withPostgres ? postgresPids() : [];
    const before = [await cpuSeconds([p.pid]), await cpuSeconds(database)];
    const run = await wrk(url, { ...pooled.main, connections: CONNECTIONS }, DURATION);
    const own = (await cpuSeconds([p.pid])) - before[0];
    const db = (await cpuSeconds(database)) - before[1];
    const served = run.rate * Number(DURATION);
    results.push({
      name,
      ...run,
      perCpu: own + db > 0 ? served / (own + db) : 0,
      // CPU microseconds per request in the provider and in Postgres.
      cost: served > 0 ? [(own * 1e6) / served, (db * 1e6) / served] : [0, 0],
    });
  }
  return results;
}

/** Runs `statements` (psql -c each) on `databaseUrl`. */
async function psql(databaseUrl, ...statements) {
  await run('psql', ['-d', databaseUrl, '-v', 'ON_ERROR_STOP=1', '-q', ...statements.flatMap((s) => ['-c', s])]);
}

/**
 * Settles a bulk load before measuring, so that vacuuming and checkpointing the pools' rows is not
 * counted as the cost of the requests that follow.
 */
function settle(databaseUrl) {
  return psql(databaseUrl, 'VACUUM ANALYZE', 'CHECKPOINT');
}

/** The peer's database, created afresh on the Postgres of DATABASE_URL; `drop()` removes it. */
async function peerDatabase() {
  const drop = () => psql(ADMIN_URL, `DROP DATABASE IF EXISTS ${PEER_DATABASE} WITH (FORCE)`);
  await drop();
  await psql(ADMIN_URL, `CREATE DATABASE ${PEER_DATABASE}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${PEER_DATABASE}`;
  return { url: url.href, drop };
}

/** The `alg` in the header of the JWT `jwt`. */
function jwtAlg(jwt) {
  return JSON.parse(Buffer.from(String(jwt).split('.')[0], 'base64url').toString()).alg;
}

/**
 * Exchanges `code` at `tokenUrl` as the web client `web` and checks the ID token is signed with
 * `alg`; resolves to the access token.
 */
async function firstExchange(tokenUrl, web, code, alg) {
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { authorization: basic(web.id, web.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK }),
  });
  const body = await res.json();
  if (!body.access_token) throw new Error(`the bench setup could not exchange a code at ${tokenUrl}: ${JSON.stringify(body)}`);
  const signed = jwtAlg(body.id_token);
  if (signed !== alg) throw new Error(`${tokenUrl} signed the ID token with ${signed}, not ${alg}`);
  return body.access_token;
}

/**
 * This server on a fresh database, with clients (the web client's ID tokens signed with `alg`),
 * a person, and pools of codes and refresh tokens; stopped again if any of that fails.
 */
async function startOurs(dir, { alg }) {
  const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json' } });
  try {
    return await loadOurs(server, dir, alg);
  } catch (e) {
    await server.stop();
    throw e;
  }
}

/** Registers the clients in the running `server` and loads its person and pools (see startOurs). */
async function loadOurs(server, dir, alg) {
  const json = async (args) => JSON.parse(await server.cli(args));
  const web = await json(['client', 'create', '--name', 'Bench web', '--redirect-uri', CALLBACK, '--first-party', '--json']);
  // Set before the bulk load, so the running server has long had the change notice when the first
  // code is exchanged (which checks it).
  if (alg !== 'RS256') await server.cli(['client', 'update', web.client_id, '--id-token-alg', alg]);
  const service = await json(['client', 'create', '--name', 'Bench service', '--service', '--scope', 'orders.read', '--json']);
  const userId = randomUUID();
  const codes = [];
  const refresh = [];
  const rows = { codes: [], refresh: [] };
  for (let i = 0; i < POOL + 1; i += 1) {
    const code = randomBytes(32).toString('base64url');
    codes.push(code);
    rows.codes.push(`('\\x${sha256Hex(code)}', '${web.client_id}', '${userId}', '${CALLBACK}', '{openid,email,profile}', 'n-${i}', now(), now() + interval '1 hour', 'bench-sid')`);
    const token = randomBytes(32).toString('base64url');
    refresh.push(token);
    rows.refresh.push(`('\\x${sha256Hex(token)}', '${randomUUID()}', '${web.client_id}', '${userId}', '{openid,email,profile,offline_access}', now(), now() + interval '1 day', now() + interval '30 days', 'bench-sid')`);
  }
  const sqlFile = join(dir, 'ours.sql');
  await writeFile(sqlFile, [
    `INSERT INTO users (id, email, email_verified_at, display_name) VALUES ('${userId}', 'bench@example.com', now(), 'Bench User');`,
    `INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scopes, nonce, auth_time, expires_at, sid) VALUES ${rows.codes.join(',\n')};`,
    `INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scopes, auth_time, expires_at, family_expires_at, sid) VALUES ${rows.refresh.join(',\n')};`,
  ].join('\n'));
  await run('psql', ['-d', server.databaseUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-f', sqlFile], { maxBuffer: 1 << 26 });
  await settle(server.databaseUrl);
  const base = `http://127.0.0.1:${server.port}`;
  // One code is exchanged here for the access token userinfo and introspection are given.
  const accessToken = await firstExchange(`${base}/oauth2/token`, { id: web.client_id, secret: web.client_secret }, codes.pop(), alg);
  return {
    name: 'this server',
    pid: server.pid,
    withPostgres: true,
    stop: server.stop,
    token: `${base}/oauth2/token`,
    userinfo: `${base}/oauth2/userinfo`,
    introspect: `${base}/oauth2/introspect`,
    jwks: `${base}/.well-known/jwks.json`,
    discovery: `${base}/.well-known/openid-configuration`,
    web: { id: web.client_id, secret: web.client_secret },
    service: { id: service.client_id, secret: service.client_secret },
    accessToken,
    codes: await pools(dir, 'ours-codes', codes),
    refresh: await pools(dir, 'ours-refresh', refresh),
  };
}

/**
 * npm oidc-provider with the same clients (the web client's ID tokens signed with `alg`) and pools,
 * minted in its memory, or with `databaseUrl` into that database (then settled like ours).
 */
async function startReference(dir, { databaseUrl, alg }) {
  const port = 4100 + Math.floor(Math.random() * 500);
  const poolDir = join(dir, 'reference');
  const storage = databaseUrl ? ['--database-url', databaseUrl] : [];
  const args = ['--port', String(port), '--pool-dir', poolDir, '--count', String(POOL + 1), '--redirect-uri', CALLBACK, '--id-token-alg', alg, ...storage];
  const child = spawn(process.execPath, [join(here, 'oidc-provider.mjs'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`oidc-provider exited (${code}): ${stderr}`)));
  });
  const setup = JSON.parse(await readFile(join(poolDir, 'setup.json'), 'utf8'));
  const lines = async (name) => (await readFile(join(poolDir, name), 'utf8')).split('\n').filter(Boolean);
  const local = (url) => url.replace('//localhost:', '//127.0.0.1:');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  const web = { id: setup.confidential.client_id, secret: setup.confidential.client_secret };
  const codes = await lines('codes.txt');
  try {
    if (databaseUrl) await settle(databaseUrl);
    // Checks the ID token's algorithm as on our side; the access token is the one minted for it.
    await firstExchange(local(setup.token_endpoint), web, codes.pop(), alg);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    name: 'oidc-provider',
    pid: child.pid,
    withPostgres: Boolean(databaseUrl),
    stop,
    token: local(setup.token_endpoint),
    userinfo: local(setup.userinfo_endpoint),
    introspect: local(setup.introspection_endpoint),
    jwks: local(setup.jwks_uri),
    discovery: local(setup.discovery),
    web,
    service: { id: setup.service.client_id, secret: setup.service.client_secret },
    accessToken: setup.access_token,
    codes: await pools(dir, 'ref-codes', codes),
    refresh: await pools(dir, 'ref-refresh', await lines('refresh.txt')),
  };
}

/**
 * CPU µs of one `alg` signature (RS256 or ES256) with Node's OpenSSL (what oidc-provider signs ID
 * tokens with). Code → tokens and refresh each sign one on both sides, so this says how much of
 * those requests is the same cost for both.
 */
function signMicros(alg) {
  const { privateKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey;
  const payload = Buffer.from('header.payload');
  for (let i = 0; i < 50; i += 1) sign('sha256', payload, key);
  const rounds = 400;
  const start = process.cpuUsage();
  for (let i = 0; i < rounds; i += 1) sign('sha256', payload, key);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / rounds;
}

const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');

/** One run's Markdown table (as `make bench` has always printed it), under the run's title. */
function runTable(spec, mine, theirs, { postgresPinned, peerPostgres }) {
  const micros = (cost, withDb) => (withDb ? `${Math.round(cost[0])} + ${Math.round(cost[1])}` : `${Math.round(cost[0])}`);
  const rows = mine.map((m, i) => {
    const t = theirs[i];
    const notes = [m.bad && `${m.bad} non-2xx here`, t.bad && `${t.bad} non-2xx there`, m.errors, t.errors].filter(Boolean).join('; ');
    const cost = `${micros(m.cost, true)} / ${micros(t.cost, peerPostgres)}`;
    return `| ${m.name} | ${Math.round(m.rate)} | ${Math.round(t.rate)} | ${ratio(m.rate, t.rate)} | ${Math.round(m.perCpu)} | ${Math.round(t.perCpu)} | ${ratio(m.perCpu, t.perCpu)} | ${cost} | ${notes} |`;
  });
  return [
    `### ${spec.title}`,
    '',
    `Requests per second, ${DURATION} s each after ${WARMUP} s of warm-up, wrk -t1 -c${CONNECTIONS} on CPU 1; each provider on CPU 0${postgresPinned ? ' (with Postgres)' : ''}.`,
    peerPostgres
      ? 'Per CPU second: requests divided by the CPU time the provider used, for each provider with every Postgres process added.'
      : 'Per CPU second: requests divided by the CPU time the provider used, for this server with every Postgres process added.',
    `CPU µs per request: this server + its Postgres / oidc-provider${peerPostgres ? ' + its Postgres' : ''}.`,
    `One ${spec.alg} signature (Node's OpenSSL, as oidc-provider signs) takes ${Math.round(signMicros(spec.alg))} µs of CPU on this host; code → tokens and refresh each make one on both sides.`,
    '',
    '| endpoint | this server (req/s) | oidc-provider (req/s) | ratio | this server (per CPU s) | oidc-provider (per CPU s) | ratio | CPU µs per request | notes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
}

/** The code → tokens and refresh ratios (this server / peer) of every run, as a Markdown table. */
function summaryTable(results) {
  const cells = (r, prefix) => {
    const i = r.mine.findIndex((m) => m.name.startsWith(prefix));
    if (i < 0) return ['—', '—'];
    const [m, t] = [r.mine[i], r.theirs[i]];
    return [ratio(m.rate, t.rate), ratio(m.perCpu, t.perCpu)];
  };
  const rows = results.map((r) => {
    const peer = r.spec.storage === 'postgres' ? 'oidc-provider, Postgres' : 'oidc-provider, memory';
    return `| ${peer} | ${r.spec.alg} | ${[...cells(r, 'authorization code'), ...cells(r, 'refresh')].join(' | ')} |`;
  });
  return [
    '### Summary: this server / the peer, per run',
    '',
    'Target: this server at ≥ 1.5× the Postgres peer on code → tokens and refresh.',
    '',
    '| peer | ID tokens | code → tokens (req/s) | code → tokens (per CPU s) | refresh (req/s) | refresh (per CPU s) |',
    '|---|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

/**
 * Runs comparison `spec`: both sides started afresh (the peer's database too, when it has one),
 * their files under `parent`, pinned, measured on the spec's endpoints (the peer first: its codes
 * live 60 s) and stopped.
 */
async function compare(spec, parent) {
  const names = selected(spec);
  const dir = join(parent, spec.key);
  await mkdir(dir, { recursive: true });
  const started = [];
  const database = spec.storage === 'postgres' ? await peerDatabase() : null;
  let unpin = () => {};
  try {
    const ours = await startOurs(dir, spec);
    started.push(ours);
    const reference = await startReference(dir, { databaseUrl: database?.url, alg: spec.alg });
    started.push(reference);
    pin(ours.pid);
    pin(reference.pid);
    let postgresPinned = false;
    if (twoCores) {
      try {
        unpin = pinPostgres();
        postgresPinned = true;
      } catch (e) {
        console.error(`Postgres could not be pinned (${e.message}); its work runs on any CPU`);
      }
    }
    const theirs = await measure(reference, names);
    const mine = await measure(ours, names);
    unpin();
    unpin = () => {};
    return { spec, mine, theirs, table: runTable(spec, mine, theirs, { postgresPinned, peerPostgres: Boolean(database) }) };
  } finally {
    unpin();
    for (const p of started.reverse()) await p.stop().catch(() => {});
    await database?.drop().catch((e) => console.error(`dropping ${PEER_DATABASE}: ${e.message}`));
  }
}

const wanted = (process.env.BENCH_RUNS || '').split(',').filter(Boolean);
const dir = await mkdtemp(join(tmpdir(), 'ciam-bench-'));
try {
  if (!twoCores) console.error('one CPU only: nothing is pinned, so the figures mix server and load generator');
  const results = [];
  for (const spec of RUNS) {
    if (wanted.length && !wanted.includes(spec.key)) continue;
    if (selected(spec).length === 0) continue;
    const result = await compare(spec, dir);
    console.log(`${result.table}\n`);
    results.push(result);
  }
  const summary = summaryTable(results.filter((r) => r.mine.some((m) => /^(authorization code|refresh)/.test(m.name))));
  console.log(summary);
  if (process.env.BENCH_OUT) {
    await mkdir(dirname(process.env.BENCH_OUT), { recursive: true });
    await writeFile(process.env.BENCH_OUT, `${[...results.map((r) => r.table), summary].join('\n\n')}\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
