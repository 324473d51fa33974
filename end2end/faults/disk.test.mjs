// The database's disk filling up under load. The database lives on a small disk of its own (a
// tmpfs mounted as its tablespace; the write-ahead log stays on the machine's disk, as where
// it has a volume of its own), on a private Postgres of the test's own. Sign-ups go on while
// the disk is filled to the last byte: each is answered 200 or a clear 503 with Retry-After,
// never a 500; readiness turns red at the first refused write; nothing is half-written. Once
// space is freed, readiness turns green by itself and sign-ups work again; the reconciler
// finds every account a client was told exists, whole, and none it was refused.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, chown, open, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { startCluster } from '../cluster/cluster.mjs';
import { startPrivatePostgres } from './postgres.mjs';
import { accountsHeld, signUpLoad } from './sign-ups.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The database's whole disk. */
const DISK = '96m';
/** How long one refused write keeps readiness red (app/src/domain/disk_full.rs), and a margin. */
const RED_FOR_MS = 10_000;
const MARGIN_MS = 5_000;
const asRoot = userInfo().uid === 0;

/** Writes zeros to `path` until the disk it is on has no byte left. */
async function fill(path) {
  const file = await open(path, 'a');
  try {
    for (const size of [1 << 20, 1 << 12, 1 << 9]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          await file.write(chunk);
        } catch (e) {
          if (e.code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    await file.close().catch(() => {});
  }
}

describe('the database disk full under load', { skip: !asRoot && 'mounting a small disk needs root' }, () => {
  let postgres;
  let cluster;
  let disk;
  let mounted = false;

  before(async () => {
    postgres = await startPrivatePostgres();
    disk = await mkdtemp(join(tmpdir(), 'ciam-disk-'));
    await run('mount', ['-t', 'tmpfs', '-o', `size=${DISK},mode=0755`, 'tmpfs', disk]);
    mounted = true;
    const space = join(disk, 'space');
    await mkdir(space, { mode: 0o700 });
    const { stdout: uid } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(space, Number(uid), Number(gid));
    await postgres.sql(`CREATE TABLESPACE small LOCATION '${space}'`);
    await postgres.sql('CREATE DATABASE ciam TABLESPACE small');
    cluster = await startCluster({ size: 1, databaseUrl: postgres.url.replace(/\/postgres$/, '/ciam') });
  });

  after(async () => {
    await cluster?.stop();
    await postgres?.destroy();
    if (mounted) await run('umount', ['-l', disk]).catch(() => {});
    if (disk) await rm(disk, { recursive: true, force: true }).catch(() => {});
  });

  test('a clear 503 and readiness red while full, nothing half-written, then back by itself', async () => {
    const node = cluster.nodes[0].url;
    const load = signUpLoad(cluster, {
      prefix: 'disk',
      phase: 'room',
      loops: 1,
      nodeFor: () => node,
      // Paced: registrations without a proof of work are limited site-wide (500 an hour).
      pauseMs: (attempt) => (attempt.status === 200 ? 50 : 200),
    });
    const { attempts, by } = load;
    await sleep(1_500);
    const filler = join(disk, 'filler');
    await fill(filler);
    load.setPhase('full');
    const red = await (async () => {
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        const res = await fetch(`${node}/readyz`);
        const body = await res.text();
        if (res.status === 503) return body;
        await sleep(200);
      }
      return null;
    })();
    await sleep(3_000);
    load.setPhase('freed');
    await rm(filler);
    const freedAt = Date.now();
    let green = false;
    while (Date.now() - freedAt < RED_FOR_MS + MARGIN_MS) {
      if ((await fetch(`${node}/readyz`)).status === 200) {
        green = true;
        break;
      }
      await sleep(250);
    }
    load.setPhase('back');
    await sleep(2_000);
    await load.stop();
    console.log(`sign-ups by phase: ${load.summary(['room', 'full', 'freed', 'back'])}; readiness while full: ${red}`);

    assert.ok(by('room').some((a) => a.status === 200), 'sign-ups worked before the disk filled');
    assert.equal(red, 'database disk full', 'readiness turns red, and says why');
    assert.ok(green, `readiness is green again within ${RED_FOR_MS + MARGIN_MS} ms of space freed`);
    const full = by('full');
    assert.ok(full.some((a) => a.status === 503), 'sign-ups were refused while the disk was full');
    const wrong = attempts.filter((a) => a.status !== 200 && (a.status !== 503 || a.retryAfter !== '1' || !/Unavailable/.test(a.body)));
    assert.deepEqual(wrong.map((a) => `${a.phase}: ${a.status} ${a.body}`), [], 'every answer is a 200 or a clear 503 with Retry-After');
    assert.ok(by('back').length > 0 && by('back').every((a) => a.status === 200), 'every sign-up succeeds once there is room');

    // The reconciler: told done means there, whole; refused means not there at all.
    const { made, whole } = await accountsHeld(cluster.sql, attempts.map((a) => a.email));
    const lost = attempts.filter((a) => a.status === 200 && !whole.includes(a.email)).map((a) => a.email);
    assert.deepEqual(lost, [], 'accounts the clients were told exist, whole');
    assert.equal(made.length, whole.length, 'no account without its consents or its mail');
    const refusedYetMade = attempts.filter((a) => a.status === 503 && made.includes(a.email)).map((a) => a.email);
    assert.deepEqual(refusedYetMade, [], 'no account a client was refused');
  });
});
