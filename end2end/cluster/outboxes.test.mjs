// Outboxes on three nodes: every node runs the mail, SMS, logout and webhook workers, all
// claiming from the same tables. Each message must arrive exactly once: the real flows queue
// some (sign-ups, a phone to prove, sign-ins ended), and a batch written in one statement puts
// many rows before all three workers at the same moment.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

import { startCluster } from './cluster.mjs';
import { register, sameDevice, signIn, signedUp, codeFlow } from './people.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { startSmsGateway } from '../support/sms-gateway.mjs';

const unique = () => `cluster-${randomBytes(5).toString('hex')}@example.com`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** An HTTP endpoint that keeps every POST's body and headers. */
async function startReceiver() {
  const received = [];
  const http = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${http.address().port}`;
  return { base, received, stop: () => new Promise((r) => http.close(r)) };
}

/** Waits until `done()` is true, then a while longer for any duplicate to arrive. */
async function settle(done, what, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not all delivered within ${timeout} ms`);
    await sleep(200);
  }
  // Every worker polls each second: three more rounds.
  await sleep(3_000);
}

/** How often each value occurs. */
function tally(values) {
  const counts = new Map();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

function assertEachOnce(counts, expected, what) {
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], `${what} delivered more than once`);
  const missing = expected.filter((e) => !counts.has(e));
  assert.deepEqual(missing, [], `${what} never delivered`);
}

describe('outboxes across nodes: exactly once', () => {
  let cluster;
  let smtp;
  let sms;
  let receiver;

  before(async () => {
    [smtp, sms, receiver] = await Promise.all([startSmtpSink(), startSmsGateway(), startReceiver()]);
    cluster = await startCluster({ env: { CIAM_SMTP_URL: smtp.url, CIAM_SMS_WEBHOOK_URL: sms.url } });
  });

  after(async () => {
    await cluster?.stop();
    await Promise.all([smtp?.stop(), sms?.stop(), receiver?.stop()]);
  });

  test('mail: sign-ups on every node and a batch of 60 rows, each message once', async () => {
    const emails = Array.from({ length: 12 }, unique);
    await Promise.all(
      emails.map(async (email) => {
        const res = await register(cluster, cluster.baseURL, email);
        assert.equal(res.status, 200, await res.text());
      }),
    );
    const batch = Array.from({ length: 60 }, unique);
    await cluster.sql(
      `INSERT INTO mail_outbox (recipient, subject, body_text)
       SELECT r, 'Batch ' || r, 'one of a batch' FROM unnest(ARRAY['${batch.join("','")}']) AS r`,
    );
    const all = [...emails, ...batch];
    await settle(
      async () => (await cluster.sql('SELECT count(*) FROM mail_outbox WHERE delivered_at IS NULL')) === '0',
      'mail',
    );
    const counts = tally(smtp.messages.flatMap((m) => m.to));
    assertEachOnce(counts, all, 'mail');
    assert.equal(smtp.messages.length, all.length);
  });

  test('texts: phones to prove on every node and a batch of 30 rows, each text once', async () => {
    await cluster.cli(['settings', 'set', 'sms_enabled', 'on']);
    const phones = [];
    for (const [i, node] of cluster.nodes.entries()) {
      const person = await signedUp(cluster, unique(), node.url);
      const phone = `+1415555${String(3100 + i)}`;
      const res = await person.post(node.url, 'phone', { phone });
      assert.ok(res.status < 400, `adding a phone at node ${node.name}: ${res.status} ${await res.text()}`);
      phones.push(phone);
    }
    const batch = Array.from({ length: 30 }, (_, i) => `+1415555${String(4000 + i)}`);
    await cluster.sql(
      `INSERT INTO sms_outbox (id, recipient, body, expires_at)
       SELECT gen_random_uuid(), r, 'Batch text', now() + interval '10 minutes'
       FROM unnest(ARRAY['${batch.join("','")}']) AS r`,
    );
    await settle(
      async () => (await cluster.sql('SELECT count(*) FROM sms_outbox WHERE delivered_at IS NULL')) === '0',
      'texts',
    );
    assertEachOnce(tally(sms.texts.map((t) => t.to)), [...phones, ...batch], 'texts');
    assert.equal(sms.texts.length, phones.length + batch.length);
  });

  test('back-channel logouts: six sign-ins ended at once, and a batch of 30, each notice once', async () => {
    const app = JSON.parse(
      await cluster.cli([
        'client', 'create', '--name', 'Shop', '--first-party', '--redirect-uri', 'https://shop.example/cb',
        '--backchannel-logout-uri', `${receiver.base}/logout`, '--json',
      ]),
    );
    app.redirect_uri = 'https://shop.example/cb';
    const email = unique();
    const owner = await signedUp(cluster, email, cluster.nodes[0].url);
    const sids = [];
    for (let i = 0; i < 6; i += 1) {
      const node = cluster.nodes[i % 3].url;
      const person = sameDevice(cluster, owner);
      await signIn(person, node, email);
      const tokens = await codeFlow(cluster, person, node, app);
      sids.push(JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url')).sid);
    }
    assert.equal(new Set(sids).size, 6);
    const ended = await owner.post(cluster.nodes[2].url, 'sign-ins/end-others');
    assert.ok(ended.status < 400, `ending the others: ${ended.status}`);

    const userId = await cluster.sql(`SELECT id FROM users WHERE email = '${email}'`);
    const batch = Array.from({ length: 30 }, () => `batch-${randomBytes(6).toString('hex')}`);
    await cluster.sql(
      `INSERT INTO logout_outbox (client_id, uri, sub, sid)
       SELECT '${app.client_id}', '${receiver.base}/logout', '${userId}', s FROM unnest(ARRAY['${batch.join("','")}']) AS s`,
    );
    const logouts = () => receiver.received.filter((r) => r.path === '/logout');
    await settle(
      async () =>
        (await cluster.sql('SELECT count(*) FROM logout_outbox WHERE delivered_at IS NULL AND abandoned_at IS NULL')) === '0',
      'logout notices',
    );
    const delivered = logouts().map((r) => {
      const token = new URLSearchParams(r.body).get('logout_token');
      return JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).sid;
    });
    assertEachOnce(tally(delivered), [...sids, ...batch], 'logout notices');
    assert.equal(delivered.length, sids.length + batch.length);
  });

  test('webhooks: sign-ups spread over the nodes, each event delivered once', async () => {
    await cluster.cli([
      'webhook', 'add', '--name', 'CRM', '--url', `${receiver.base}/hooks`, '--event', 'person.created', '--allow-private',
    ]);
    const emails = Array.from({ length: 12 }, unique);
    await Promise.all(
      emails.map(async (email) => {
        const res = await register(cluster, cluster.baseURL, email);
        assert.equal(res.status, 200, await res.text());
      }),
    );
    const ids = await cluster.sql(`SELECT string_agg(id::text, ',') FROM users WHERE email IN ('${emails.join("','")}')`);
    const hooks = () => receiver.received.filter((r) => r.path === '/hooks');
    await settle(async () => hooks().length >= emails.length, 'webhooks');
    const messages = hooks().map((r) => ({ id: r.headers['webhook-id'], person: JSON.parse(r.body).data?.person_id }));
    assertEachOnce(tally(messages.map((m) => m.id)), [...new Set(messages.map((m) => m.id))], 'webhook messages');
    assertEachOnce(tally(messages.map((m) => m.person)), ids.split(','), 'person.created events');
  });
});
