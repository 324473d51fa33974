// Owns the app server under test: a fresh database, a free port, the spawned binary, and their teardown.
import { spawn, execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const serverBin = process.env.CIAM_SERVER_BIN || join(homedir(), '.cache', 'ciam-target', 'debug', 'server');
export const siteRoot = process.env.LEPTOS_SITE_ROOT || join(repoRoot, 'target', 'site-test');
/** Where test databases are created: `DATABASE_URL` names a server and a database to connect to for that. */
const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** `adminUrl` with its database replaced by `database`. */
function urlFor(database) {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.href;
}

async function psql(sql) {
  await run('psql', ['-d', adminUrl, '-v', 'ON_ERROR_STOP=1', '-qc', sql]);
}

export async function freePort() {
  const probe = createServer();
  await new Promise((r, j) => probe.once('error', j).listen(0, '127.0.0.1', r));
  const { port } = probe.address();
  await new Promise((r) => probe.close(r));
  return port;
}

/**
 * Creates a new empty database on the Postgres server of `DATABASE_URL`.
 * @returns {Promise<{database: string, databaseUrl: string, drop: () => Promise<void>, dropNow: () => void}>}
 */
export async function createDatabase() {
  const database = `ciam_e2e_${process.pid}_${randomBytes(4).toString('hex')}`;
  await psql(`create database ${database}`);
  return {
    database,
    databaseUrl: urlFor(database),
    drop: () =>
      psql(`drop database if exists ${database} with (force)`).catch((e) => console.error(`dropping ${database}:`, e.message)),
    // For process exit handlers, where nothing can be awaited.
    dropNow: () => {
      try {
        execFileSync('psql', ['-d', adminUrl, '-qc', `drop database if exists ${database} with (force)`], { stdio: 'ignore' });
      } catch {
        // best effort
      }
    },
  };
}

/**
 * Spawns `server serve` on `port` with `env` (merged over this process's environment) and waits
 * until it answers `/readyz`. `stop()` ends it with SIGTERM (SIGKILL after 5 s), `kill()` with
 * SIGKILL at once; `exited` resolves with how it ended.
 */
export async function spawnServer({ port, env, cwd, readyTimeout = 60_000, name = 'server' }) {
  let output = '';
  const child = spawn(serverBin, ['serve'], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);

  async function stop() {
    process.off('exit', onExit);
    if (running()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  }

  async function kill() {
    process.off('exit', onExit);
    if (running()) child.kill('SIGKILL');
    await exited;
  }

  const deadline = Date.now() + readyTimeout;
  let early = null;
  exited.then((e) => (early = e));
  for (;;) {
    if (early) {
      await stop();
      throw new Error(`${name} exited before it was ready (${JSON.stringify(early)}):\n${output}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} not ready after ${readyTimeout} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid, url: `http://127.0.0.1:${port}`, log: () => output, stop, kill, exited };
}

/**
 * Starts the server against a new empty database (on the Postgres server of `DATABASE_URL`,
 * default postgres://postgres@127.0.0.1:5432/postgres), mailing through `smtpUrl`.
 * `env` (optional) is merged into the server's environment after the defaults, so it can add
 * variables and override any of them.
 * @returns {Promise<{baseURL: string, port: number, database: string, databaseUrl: string, pid: number, log: () => string,
 *   stop: () => Promise<void>, cli: (args: string[]) => Promise<string>, sql: (statement: string) => Promise<string>}>}
 */
export async function startServer({ smtpUrl, readyTimeout = 60_000, env: extraEnv = {} } = {}) {
  const db = await createDatabase();
  const cwd = await mkdtemp(join(tmpdir(), 'ciam-e2e-'));
  const port = await freePort();
  const baseURL = `http://localhost:${port}`;
  const env = {
    DATABASE_URL: db.databaseUrl,
    CIAM_LISTEN: `127.0.0.1:${port}`,
    CIAM_PUBLIC_URL: baseURL,
    LEPTOS_SITE_ROOT: siteRoot,
  };
  if (smtpUrl) env.CIAM_SMTP_URL = smtpUrl;
  Object.assign(env, extraEnv);

  // If the test process ends without stop() (a crash, Ctrl-C), leave no database behind.
  const onExit = () => {
    db.dropNow();
    rmSync(cwd, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const cleanUp = async () => {
    process.off('exit', onExit);
    await db.drop();
    await rm(cwd, { recursive: true, force: true });
  };

  let node;
  try {
    node = await spawnServer({ port, env, cwd, readyTimeout });
  } catch (e) {
    await cleanUp();
    throw e;
  }
  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    await node.stop();
    await cleanUp();
  }

  const { cli, sql } = commandsFor(env, cwd);
  return { baseURL, port, database: db.database, databaseUrl: db.databaseUrl, pid: node.pid, log: node.log, stop, cli, sql };
}

/** `cli` runs a `server` command (e.g. `['settings', 'set', 'sms_enabled', 'on']`) with `env`;
 * `sql` runs a statement on `env.DATABASE_URL` and returns what it printed (unaligned, no headers). */
export function commandsFor(env, cwd) {
  const fullEnv = { ...process.env, ...env };
  return {
    /** With `onCpu`, the command runs on that CPU alone (taskset). */
    async cli(args, { onCpu } = {}) {
      const [bin, argv] = onCpu === undefined ? [serverBin, args] : ['taskset', ['-c', String(onCpu), serverBin, ...args]];
      const { stdout } = await run(bin, argv, { cwd, env: fullEnv });
      return stdout;
    },
    async sql(statement) {
      const { stdout } = await run('psql', ['-d', env.DATABASE_URL, '-v', 'ON_ERROR_STOP=1', '-tAqc', statement]);
      return stdout.trim();
    },
  };
}

/**
 * Why the page's scripts cannot hydrate, or null: the wasm and JS the server's pages ask for
 * must exist in the site root (they do not when the binary was rebuilt without the site, e.g.
 * by `cargo build`/`cargo test` instead of `cargo leptos build`).
 */
export async function siteProblems(baseURL) {
  const html = await (await fetch(`${baseURL}/`)).text();
  const assets = [...html.matchAll(/<link rel="(?:modulepreload|preload)" href="([^"]+)"/g)].map((m) => m[1]);
  if (assets.length === 0) return `the home page links no /pkg scripts to hydrate with`;
  const missing = [];
  for (const path of assets) {
    const res = await fetch(`${baseURL}${path}`);
    await res.arrayBuffer();
    if (res.status !== 200) missing.push(`${path} (${res.status})`);
  }
  if (missing.length === 0) return null;
  return (
    `the server's pages load ${missing.join(', ')}, which ${siteRoot} does not serve: ` +
    `${serverBin} and the compiled site do not match (rebuild both with \`cargo leptos build\`)`
  );
}
