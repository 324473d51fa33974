// Owns the side-by-side benchmark of the OpenID provider endpoints: this server (release build,
// its own fresh database) against npm oidc-provider (one Node process, configured alike, see
// oidc-provider.mjs), each pinned to CPU 0 with wrk driving it from CPU 1. Postgres is pinned to
// CPU 0 too while it runs, so "per core" counts the database work this server does and
// oidc-provider (memory only) does not. Prints a Markdown table of requests per second and per CPU
// second (this server's counted with Postgres's), the ratios, the CPU time per request and any
// non-2xx answers, and writes it to BENCH_OUT when that is set. BENCH_ONLY=refresh,userinfo runs
// only the endpoints whose names contain one of those words.
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
/** Single-use tokens per pool: enough for the warm-up and the measured run at a high rate. */
const POOL = Number(process.env.BENCH_POOL_SIZE || 40000);
const WARM_POOL = 10000;
const CALLBACK = 'http://localhost:9/cb';


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

/** The endpoints both providers serve, as wrk requests. */
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

/**
 * Measures every endpoint of provider `p` (or those BENCH_ONLY names, comma-separated parts of
 * their names); the code pool goes first (codes live 60 s). Besides the rate, counts the CPU time
 * the provider (and its database) spent, for requests per CPU second: what one fully used core
 * would serve.
 */
async function measure(p) {
  const only = (process.env.BENCH_ONLY || '').split(',').filter(Boolean);
  const results = [];
  for (const [name, url, req] of requests(p)) {
    if (only.length && !only.some((part) => name.includes(part))) continue;
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

/** This server on a fresh database, with clients, a person, and pools of codes and refresh tokens. */
async function startOurs(dir) {
  const server = await startServer({ env: { RUST_LOG: 'warn', CIAM_LOG_FORMAT: 'json' } });
  const json = async (args) => JSON.parse(await server.cli(args));
  const web = await json(['client', 'create', '--name', 'Bench web', '--redirect-uri', CALLBACK, '--first-party', '--json']);
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
  // Settle the bulk load before measuring, so that vacuuming and checkpointing 80,000 new rows
  // is not counted as the cost of the requests that follow.
  await run('psql', ['-d', server.databaseUrl, '-q', '-c', 'VACUUM ANALYZE', '-c', 'CHECKPOINT']);
  // One code is exchanged here for the access token userinfo and introspection are given.
  const first = await fetch(`${server.baseURL}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic(web.client_id, web.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: codes.pop(), redirect_uri: CALLBACK }),
  });
  const { access_token: accessToken } = await first.json();
  if (!accessToken) throw new Error('the bench setup could not exchange a code');
  const base = `http://127.0.0.1:${server.port}`;
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

/** npm oidc-provider with the same clients and pools, minted in its memory. */
async function startReference(dir) {
  const port = 4100 + Math.floor(Math.random() * 500);
  const poolDir = join(dir, 'reference');
  const child = spawn(process.execPath, [join(here, 'oidc-provider.mjs'), '--port', String(port), '--pool-dir', poolDir, '--count', String(POOL), '--redirect-uri', CALLBACK], {
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
  return {
    name: 'oidc-provider',
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
    token: local(setup.token_endpoint),
    userinfo: local(setup.userinfo_endpoint),
    introspect: local(setup.introspection_endpoint),
    jwks: local(setup.jwks_uri),
    discovery: local(setup.discovery),
    web: { id: setup.confidential.client_id, secret: setup.confidential.client_secret },
    service: { id: setup.service.client_id, secret: setup.service.client_secret },
    accessToken: setup.access_token,
    codes: await pools(dir, 'ref-codes', await lines('codes.txt')),
    refresh: await pools(dir, 'ref-refresh', await lines('refresh.txt')),
  };
}

/**
 * CPU µs of one RS256 signature with Node's OpenSSL (what oidc-provider signs ID tokens with).
 * Code → tokens and refresh each sign one on both sides, so this says how much of those requests
 * is the same cost for both.
 */
function rs256Micros() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const payload = Buffer.from('header.payload');
  for (let i = 0; i < 50; i += 1) sign('sha256', payload, privateKey);
  const rounds = 400;
  const start = process.cpuUsage();
  for (let i = 0; i < rounds; i += 1) sign('sha256', payload, privateKey);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / rounds;
}

const dir = await mkdtemp(join(tmpdir(), 'ciam-bench-'));
let unpin = () => {};
const started = [];
try {
  if (!twoCores) console.error('one CPU only: nothing is pinned, so the figures mix server and load generator');
  const ours = await startOurs(dir);
  started.push(ours);
  const reference = await startReference(dir);
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
  // oidc-provider's codes expire 60 s after minting: it goes first.
  const theirs = await measure(reference);
  const mine = await measure(ours);
  const rsa = rs256Micros();
  const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');
  const rows = mine.map((m, i) => {
    const t = theirs[i];
    const notes = [m.bad && `${m.bad} non-2xx here`, t.bad && `${t.bad} non-2xx there`, m.errors, t.errors].filter(Boolean).join('; ');
    const cost = `${Math.round(m.cost[0])} + ${Math.round(m.cost[1])} / ${Math.round(t.cost[0])}`;
    return `| ${m.name} | ${Math.round(m.rate)} | ${Math.round(t.rate)} | ${ratio(m.rate, t.rate)} | ${Math.round(m.perCpu)} | ${Math.round(t.perCpu)} | ${ratio(m.perCpu, t.perCpu)} | ${cost} | ${notes} |`;
  });
  const table = [
    `Requests per second, ${DURATION} s each after ${WARMUP} s of warm-up, wrk -t1 -c${CONNECTIONS} on CPU 1; each provider on CPU 0${postgresPinned ? ' (with Postgres)' : ''}.`,
    'Per CPU second: requests divided by the CPU time the provider used, for this server with every Postgres process added.',
    'CPU µs per request: this server + its Postgres / oidc-provider.',
    `One RS256 signature (Node's OpenSSL, as oidc-provider signs) takes ${Math.round(rsa)} µs of CPU on this host; code → tokens and refresh each make one on both sides.`,
    '',
    '| endpoint | this server (req/s) | oidc-provider (req/s) | ratio | this server (per CPU s) | oidc-provider (per CPU s) | ratio | CPU µs per request | notes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
  console.log(table);
  if (process.env.BENCH_OUT) {
    await mkdir(dirname(process.env.BENCH_OUT), { recursive: true });
    await writeFile(process.env.BENCH_OUT, `${table}\n`);
  }
} finally {
  unpin();
  for (const p of started.reverse()) await p.stop().catch(() => {});
  await rm(dir, { recursive: true, force: true });
}
