// Owns a Postgres server of the faults' own: a new data directory (initdb) on a free port,
// which a test may stop, start and reconfigure without touching the machine's Postgres, and
// streaming replicas of it (pg_basebackup), whose replay a test may pause. Run as the
// `postgres` user when this process is root (initdb refuses root).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, chmod, chown } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { freePort } from '../support/server.mjs';

const run = promisify(execFile);
const bin = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';
const asRoot = userInfo().uid === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a Postgres program as the user that owns the data directory. */
function pg(program, args) {
  return asRoot
    ? run('runuser', ['-u', 'postgres', '--', join(bin, program), ...args])
    : run(join(bin, program), args);
}

/** A new directory the user who runs Postgres owns, removed when this process exits. */
async function ownDirectory() {
  const dir = await mkdtemp(join(tmpdir(), 'ciam-pg-'));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout), Number(gid));
  }
  await chmod(dir, 0o700);
  return dir;
}

/** Starts the server of the data directory `<dir>/data` on `port`; returns how to handle it. */
async function serve(dir, port, cleanUp = async () => {}) {
  const data = join(dir, 'data');
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
    await cleanUp().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
  return { url, port, data, start, stop, sql, destroy };
}

/**
 * Initialises and starts a private Postgres on 127.0.0.1 at a free port (trust authentication,
 * also for replication; fsync on). Returns its URL, its data directory, `stop()` (fast
 * shutdown), `start()`, `sql()` and `destroy()`.
 */
export async function startPrivatePostgres() {
  const dir = await ownDirectory();
  await pg('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
  return serve(dir, await freePort());
}

/**
 * A hot standby of `primary` (a private Postgres of `startPrivatePostgres`): a base backup
 * streaming from a replication slot of its own, started at a free port. The same handles, plus
 * `pauseReplay()`, `resumeReplay()` and `caughtUp()` (resolves once the replica has replayed
 * everything the primary had written when it was called).
 */
export async function startReplica(primary) {
  const dir = await ownDirectory();
  const slot = `replica_${randomBytes(4).toString('hex')}`;
  const source = `host=127.0.0.1 port=${primary.port} user=postgres`;
  await pg('pg_basebackup', ['-d', source, '-D', join(dir, 'data'), '-R', '-X', 'stream', '-C', '-S', slot, '-c', 'fast']);
  const dropSlot = async () => {
    // The slot keeps WAL on the primary for as long as it exists; the walsender may still hold it.
    for (let i = 0; i < 50; i += 1) {
      const active = await primary.sql(`SELECT active FROM pg_replication_slots WHERE slot_name = '${slot}'`);
      if (active === '') return;
      if (active === 'f') {
        await primary.sql(`SELECT pg_drop_replication_slot('${slot}')`);
        return;
      }
      await sleep(100);
    }
  };
  const replica = await serve(dir, await freePort(), dropSlot);
  async function caughtUp(timeoutMs = 60_000) {
    const target = await primary.sql('SELECT pg_current_wal_lsn()');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const replayed = await replica.sql(`SELECT coalesce(pg_last_wal_replay_lsn() >= '${target}', false)`);
      if (replayed === 't') return;
      if (Date.now() > deadline) throw new Error(`the replica has not replayed up to ${target} after ${timeoutMs} ms`);
      await sleep(50);
    }
  }
  return {
    ...replica,
    pauseReplay: () => replica.sql('SELECT pg_wal_replay_pause()'),
    resumeReplay: () => replica.sql('SELECT pg_wal_replay_resume()'),
    caughtUp,
  };
}
