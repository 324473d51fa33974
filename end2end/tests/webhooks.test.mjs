// Signed webhooks as a partner's back end receives them: a receiver that verifies every message
// with the reference `standardwebhooks` library, subscribed with the server's command line,
// hears of a registration made in the browser and of the sign-in after it; a tampered body
// fails verification, and after a secret rotation each message verifies with both secrets.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

import { server, uniqueEmail, usePages, registerConfirmed, signInWithPassword } from '../support/journey.mjs';

/** A partner's endpoint on 127.0.0.1: keeps every message with its raw body and headers. */
async function startReceiver() {
  const messages = [];
  const waiters = [];
  const http = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      messages.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      waiters.splice(0).forEach((wake) => wake());
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${http.address().port}/hooks/keyhaven`;

  /** The first message of `type` (parsed without verifying, to pick it), within `timeout`. */
  async function waitFor(type, timeout = 15_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = messages.find((m) => JSON.parse(m.body).type === type);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} webhook within ${timeout} ms (got ${messages.length})`);
      await new Promise((r) => {
        waiters.push(r);
        setTimeout(r, Math.min(left, 500));
      });
    }
  }

  return { url, waitFor, stop: () => new Promise((r) => http.close(r)) };
}

/** Reads `id: …` and `secret: …` from the command's output. */
function field(output, name) {
  const line = output.split('\n').find((l) => l.startsWith(`${name}: `));
  assert.ok(line, `no ${name} in:\n${output}`);
  return line.slice(name.length + 2).trim();
}

describe('webhooks', () => {
  const mode = { javaScriptEnabled: true };
  const { freshPage } = usePages(mode);
  let receiver;

  before(async () => {
    receiver = await startReceiver();
  });

  after(async () => {
    await receiver?.stop();
  });

  test('a registration reaches the subscriber, signed as Standard Webhooks specifies', async () => {
    const added = await server.cli([
      'webhook', 'add', '--name', 'CRM', '--url', receiver.url,
      '--event', 'person.created', '--event', 'person.signed_in', '--allow-private',
    ]);
    const id = field(added, 'id');
    const secret = field(added, 'secret');
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);

    const email = uniqueEmail();
    const { page } = await freshPage();
    await registerConfirmed(page, email, mode);
    const personId = await server.sql(`select id from users where email = '${email}'`);

    const created = await receiver.waitFor('person.created');
    const payload = new Webhook(secret).verify(created.body, created.headers);
    assert.equal(payload.type, 'person.created');
    assert.deepEqual(payload.data, { person_id: personId });
    assert.ok(!Number.isNaN(Date.parse(payload.timestamp)), 'an RFC 3339 time');
    assert.match(created.headers['webhook-id'], /^msg_/);
    assert.ok(!created.body.includes(email), 'the id only, never the address');

    // A body changed on the way, or another secret, fails verification.
    const tampered = created.body.replace(personId, '00000000-0000-0000-0000-000000000000');
    assert.throws(() => new Webhook(secret).verify(tampered, created.headers), WebhookVerificationError);
    const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    assert.throws(() => new Webhook(other).verify(created.body, created.headers), WebhookVerificationError);

    // After a rotation the next message verifies with the new secret and the previous one.
    const rotated = field(await server.cli(['webhook', 'rotate-secret', id]), 'secret');
    assert.notEqual(rotated, secret);
    await signInWithPassword(page, email, mode);
    const signedIn = await receiver.waitFor('person.signed_in');
    assert.equal(signedIn.headers['webhook-signature'].split(' ').length, 2);
    assert.deepEqual(new Webhook(rotated).verify(signedIn.body, signedIn.headers).data, { person_id: personId });
    assert.deepEqual(new Webhook(secret).verify(signedIn.body, signedIn.headers).data, { person_id: personId });

    // The delivery log lists the attempts (each recorded once its answer came).
    let log = '';
    for (let tries = 0; tries < 20 && !/person\.signed_in .* 204 delivered/.test(log); tries++) {
      if (tries > 0) await new Promise((r) => setTimeout(r, 250));
      log = await server.cli(['webhook', 'log', id]);
    }
    assert.match(log, /person\.created .* 204 delivered/);
    assert.match(log, /person\.signed_in .* 204 delivered/);
  });
});
