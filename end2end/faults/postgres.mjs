// Owns a Postgres server of the faults' own: a new data directory (initdb) on a free port,
// which a test may stop, start and reconfigure without touching the machine's Postgres. Run
// as the `postgres` user when this process is root (initdb refuses root).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, chmod, chown } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { freePort } from '../support/server.mjs';

const run = promisify(execFile);
const bin = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';
const asRoot = userInfo().uid === 0;

/** Runs a Postgres program as the user that owns the data directory. */
function pg(program, args) {
  return asRoot
    ? run('runuser', ['-u', 'postgres', '--', join(bin, program), ...args])
    : run(join(bin, program), args);
}

/**
 * Initialises and starts a private Postgres on 127.0.0.1 at a free port (trust authentication,
 * fsync on). Returns its URL, `stop()` (fast shutdown), `start()`, `sql()` and `destroy()`.
 */
export async function startPrivatePostgres() {
  const dir = await mkdtemp(join(tmpdir(), 'ciam-pg-'));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout), Number(gid));
  }
  await chmod(dir, 0o700);
  const data = join(dir, 'data');
  const port = await freePort();
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const start = () => pg('pg_ctl', ['-D', data, '-o', options, '-w', '-l', join(dir, 'log'), 'start']);
  const stop = () => pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  const onExit = () => {
    try {
      // Best effort at exit: nothing can be awaited here.
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // ignore
    }
  };
  await start();
  process.once('exit', onExit);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  async function sql(statement) {
    const { stdout } = await run('psql', ['-d', url, '-v', 'ON_ERROR_STOP=1', '-tAqc', statement]);
    return stdout.trim();
  }
  async function destroy() {
    process.off('exit', onExit);
    await stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
  return { url, port, start, stop, sql, destroy };
}
