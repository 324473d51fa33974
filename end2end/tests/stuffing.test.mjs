// Credential stuffing against the running server: a scripted run over 50 accounts from one
// network, the way a bot sends it (straight to the sign-in endpoint, solving the site's
// proof-of-work puzzle in a worker when asked, as a determined bot would), is slowed down, while
// a customer on another network signs in with Chromium in the usual time, asked for nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';

import { open } from '../support/browser.mjs';
import {
  server,
  uniqueEmail,
  waitForPath,
  usePages,
  registerConfirmed,
  browserAt,
  PLACES,
  PASSWORD,
} from '../support/journey.mjs';

// The bot's own proof-of-work solver, off the main thread so the browser driver stays
// responsive: the first counter whose "challenge.counter" has `bits` leading zero bits.
const SOLVER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { challenge, bits } = workerData;
const zeroBits = (digest) => {
  let n = 0;
  for (const byte of digest) {
    if (byte === 0) { n += 8; continue; }
    return n + Math.clz32(byte) - 24;
  }
  return n;
};
for (let counter = 0; ; counter++) {
  const answer = challenge + '.' + counter;
  if (zeroBits(createHash('sha256').update(answer).digest()) >= bits) {
    parentPort.postMessage(answer);
    break;
  }
}`;

function solve(puzzle) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SOLVER, { eval: true, workerData: puzzle });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

/** One server-function call from the bot at `ip`. */
async function call(ip, endpoint, fields) {
  const response = await fetch(`${server.baseURL}/api/${endpoint}`, {
    method: 'POST',
    headers: {
      Accept: 'application/json',
      Origin: server.baseURL,
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Forwarded-For': ip,
    },
    body: new URLSearchParams(fields),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** One stuffing attempt at `email`: returns what it took and what it got. */
async function attempt(ip, email) {
  const started = performance.now();
  const fields = { email, password: 'Summer2019!' };
  let answer = await call(ip, 'sign-in', fields);
  let bits = null;
  if (answer.status === 429 && answer.body === 'ProofOfWork') {
    const puzzle = (await call(ip, 'proof-of-work', { purpose: 'sign-in' })).body;
    bits = puzzle.bits;
    answer = await call(ip, 'sign-in', { ...fields, proof: await solve(puzzle) });
  }
  return { status: answer.status, bits, ms: performance.now() - started };
}

describe('a credential-stuffing run', () => {
  const mode = { javaScriptEnabled: true };
  const { freshPage, checkPage } = usePages(mode);

  /** Signs in on a fresh page at Berlin; returns the milliseconds from submit to profile. */
  async function customerSignsIn(email) {
    const { page, context } = await freshPage();
    await browserAt(context, PLACES.berlin);
    await open(page, '/signin', mode);
    await page.locator('#email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    const button = page.getByRole('button', { name: 'Sign in', exact: true });
    // No puzzle for this network: the button is ready at once.
    assert.equal(await button.isEnabled(), true);
    assert.equal(await page.locator('input[name="proof"]').inputValue(), '');
    const started = performance.now();
    await button.click();
    await waitForPath(page, '/profile');
    const ms = performance.now() - started;
    checkPage(page);
    return ms;
  }

  test('is slowed down, while a customer elsewhere signs in as usual', async (t) => {
    const email = uniqueEmail();
    const { page, context } = await freshPage();
    await browserAt(context, PLACES.berlin);
    await registerConfirmed(page, email, mode);
    const usual = await customerSignsIn(email);

    // 50 accounts from one network (each from an address of its own, so no address lock).
    const results = [];
    const run = (async () => {
      for (let n = 0; n < 50; n++) {
        results.push(await attempt(`203.0.113.${n + 1}`, `victim${n}@example.com`));
      }
    })();
    // Once the run is slowed, the customer signs in from Berlin meanwhile.
    while (results.length < 25) await new Promise((r) => setTimeout(r, 50));
    const during = await customerSignsIn(email);
    await run;

    const [free, slowed] = [results.slice(0, 20), results.slice(20)];
    assert.ok(free.every((r) => r.status === 401 && r.bits === null), JSON.stringify(free));
    assert.ok(slowed.every((r) => r.status === 401 && r.bits >= 18), JSON.stringify(slowed));
    // The price grows as the run goes on: harder puzzles and longer waits.
    assert.ok(slowed.at(-1).bits > slowed[0].bits, JSON.stringify(slowed));
    assert.ok(slowed.every((r) => r.ms >= 250), 'every further password waits');
    const mean = (rs) => rs.reduce((sum, r) => sum + r.ms, 0) / rs.length;
    t.diagnostic(`bot: ${mean(free).toFixed(0)} ms per password before the threshold, ${mean(slowed).toFixed(0)} ms after (bits ${slowed[0].bits}…${slowed.at(-1).bits}); customer: ${usual.toFixed(0)} ms usual, ${during.toFixed(0)} ms during the run`);
    assert.ok(mean(slowed) > 4 * mean(free), `slowed ${mean(slowed)} ms, free ${mean(free)} ms`);
    // The customer: no puzzle, no wait beyond the machine being busy with the bot.
    assert.ok(during < Math.max(3 * usual, usual + 1500), `usual ${usual} ms, during the run ${during} ms`);
    const asked = await server.sql(
      `SELECT count(*) FROM audit_events WHERE detail->>'email' = '${email}' AND detail->>'reason' = 'proof_of_work'`,
    );
    assert.equal(asked, '0');
  });
});
