// Sessions and throttles on three nodes behind HAProxy (round robin, no sticky sessions): a
// sign-in made on one node holds on the others, ending it anywhere is seen everywhere at once,
// and failed attempts spread over the nodes add up to one lockout.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startCluster } from './cluster.mjs';
import { browser, freshNetwork, sameDevice, signIn, signedUp, PASSWORD } from './people.mjs';

const unique = () => `cluster-${randomBytes(5).toString('hex')}@example.com`;

describe('sessions and limits across nodes', () => {
  let cluster;
  let a;
  let b;
  let c;

  before(async () => {
    cluster = await startCluster();
    [a, b, c] = cluster.nodes.map((n) => n.url);
  });

  after(async () => {
    await cluster?.stop();
  });

  test('a session started on A works on B; ended from C, it is refused on A at once', async () => {
    const email = unique();
    const first = await signedUp(cluster, email, a);
    assert.equal(await first.whoAmI(b), email, 'the session started on A holds on B');
    assert.equal(await first.whoAmI(c), email, 'and on C');

    const second = sameDevice(cluster, first);
    await signIn(second, b, email);
    const listed = await second.post(c, 'sign-ins');
    assert.equal(listed.status, 200);
    const sessions = await listed.json();
    assert.equal(sessions.length, 2, JSON.stringify(sessions));
    const other = sessions.find((s) => !s.this_device);
    assert.ok(other, 'the first sign-in is listed as another one');

    const ended = await second.post(c, 'sign-ins/end', { id: other.id });
    assert.ok(ended.status < 400, `ending it on C: ${ended.status} ${await ended.text()}`);
    assert.equal(await first.whoAmI(a), null, 'the ended session is refused on A');
    assert.equal(await first.whoAmI(b), null, 'and on B');
    assert.equal(await second.whoAmI(a), email, 'the session that ended it goes on');

    // A sign-out on C: the cookie the browser held before is refused everywhere.
    const before = second.jar.copy([...second.jar.cookies.keys()]);
    const out = await second.post(c, 'sign-out');
    assert.ok(out.status < 400, `sign-out: ${out.status}`);
    const stale = browser(cluster, second.ip);
    stale.jar.cookies = before.cookies;
    for (const node of [a, b, c]) assert.equal(await stale.whoAmI(node), null, `the signed-out cookie at ${node}`);
  });

  test('failed sign-ins through the balancer add up on every node to one lockout', async () => {
    const email = unique();
    const owner = await signedUp(cluster, email, a);
    const attacker = browser(cluster, freshNetwork());
    const servedBy = new Set();
    const statuses = [];
    for (let i = 0; i < 10; i += 1) {
      const res = await attacker.post(cluster.baseURL, 'sign-in', { email, password: `wrong guess ${i}` });
      await res.arrayBuffer();
      statuses.push(res.status);
      servedBy.add(res.headers.get('x-served-by'));
    }
    assert.deepEqual([...servedBy].sort(), ['a', 'b', 'c'], 'the guesses were spread over every node');
    assert.ok(statuses.slice(0, 9).every((s) => s >= 400 && s !== 429), `statuses ${statuses}`);
    // Ten failures lock the account (10 per 15 minutes): per node, each would have seen four at most.
    assert.equal(statuses[9], 429, `the tenth guess locks the account: ${statuses}`);

    for (const node of [a, b, c]) {
      const later = sameDevice(cluster, owner);
      const res = await later.post(node, 'sign-in', { email, password: PASSWORD });
      assert.equal(res.status, 429, `the right password at ${node} while locked: ${res.status}`);
      assert.equal(await later.whoAmI(node), null);
    }
  });
});
