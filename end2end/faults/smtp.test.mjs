// The SMTP server is down while people sign up on three nodes: the verification mail waits in
// the outbox, retried with backoff, and is delivered exactly once each when the server returns.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startCluster } from '../cluster/cluster.mjs';
import { register } from '../cluster/people.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { freePort } from '../support/server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const unique = () => `smtp-down-${randomBytes(5).toString('hex')}@example.com`;

describe('the SMTP server down', () => {
  let cluster;
  let smtp;
  let port;

  before(async () => {
    port = await freePort();
    cluster = await startCluster({ env: { CIAM_SMTP_URL: `smtp://127.0.0.1:${port}` } });
  });

  after(async () => {
    await cluster?.stop();
    await smtp?.stop();
  });

  test('mail waits in the outbox and is delivered once each when it returns', async () => {
    const emails = Array.from({ length: 9 }, unique);
    for (const email of emails) {
      const res = await register(cluster, cluster.baseURL, email);
      assert.equal(res.status, 200, 'sign-ups do not wait for mail');
    }
    await sleep(8_000);
    const waiting = await cluster.sql(
      `SELECT count(*) || ' ' || min(attempts) FROM mail_outbox
       WHERE delivered_at IS NULL AND recipient = ANY(ARRAY['${emails.join("','")}'])`,
    );
    const [pending, attempts] = waiting.split(' ').map(Number);
    assert.equal(pending, emails.length, 'every message waits');
    assert.ok(attempts >= 2, `each was tried and will be again (${attempts} attempts)`);

    smtp = await startSmtpSink({ port });
    // Backoff after the attempts so far is at most 2^4 s.
    const deadline = Date.now() + 40_000;
    while ((await cluster.sql('SELECT count(*) FROM mail_outbox WHERE delivered_at IS NULL')) !== '0') {
      assert.ok(Date.now() < deadline, 'the outbox drains once the server is back');
      await sleep(250);
    }
    await sleep(3_000);
    for (const email of emails) assert.equal(smtp.mailTo(email).length, 1, `one message to ${email}`);
    assert.equal(smtp.messages.length, emails.length);
  });
});
