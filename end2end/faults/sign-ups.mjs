// Owns the sign-up load the database faults run under and its reconciler: registrations, each
// from a fresh network, recorded with the phase of the fault they were sent in and what the
// client was told; then which of them the database holds whole.
import { randomBytes } from 'node:crypto';

import { register } from '../cluster/people.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `loops` loops of sign-ups, each to `nodeFor(turn)`; after each answer a loop waits
 * `pauseMs(attempt)`. Returns the attempts (`{email, phase, status, body, retryAfter, took,
 * finished}`), `setPhase(name)`, `stop()` (resolves once every loop has ended), `by(phase)` and
 * `summary(phases)`, a line for the log.
 */
export function signUpLoad(cluster, { prefix, phase, loops, nodeFor, pauseMs }) {
  const attempts = [];
  let running = true;
  let turn = 0;
  async function loop() {
    while (running) {
      turn += 1;
      const email = `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
      const attempt = { email, phase, status: null };
      attempts.push(attempt);
      const started = Date.now();
      try {
        const res = await register(cluster, nodeFor(turn), email);
        attempt.body = (await res.text()).slice(0, 200);
        attempt.status = res.status;
        attempt.retryAfter = res.headers.get('retry-after');
      } catch (e) {
        attempt.status = `error: ${e.message}`;
      }
      attempt.took = Date.now() - started;
      attempt.finished = Date.now();
      await sleep(pauseMs(attempt));
    }
  }
  const loopsEnded = Array.from({ length: loops }, loop);
  const by = (p) => attempts.filter((a) => a.phase === p);
  return {
    attempts,
    setPhase: (next) => {
      phase = next;
    },
    stop: async () => {
      running = false;
      await Promise.all(loopsEnded);
    },
    by,
    summary: (phases) =>
      phases.map((p) => `${p}: ${by(p).length} (${[...new Set(by(p).map((a) => a.status))].join(', ')})`).join('; '),
  };
}

/**
 * The addresses among `emails` whose account the database holds (`made`), and those it holds
 * whole: with both required consents and the verification mail (`whole`).
 */
export async function accountsHeld(sql, emails) {
  const list = `ARRAY['${emails.join("','")}']`;
  const lines = (text) => text.split('\n').filter(Boolean);
  const whole = lines(
    await sql(
      `SELECT u.email FROM users u WHERE u.email = ANY(${list})
         AND (SELECT count(*) FROM consent_ledger c WHERE c.user_id = u.id) >= 2
         AND EXISTS (SELECT 1 FROM mail_outbox m WHERE m.recipient = u.email)`,
    ),
  );
  const made = lines(await sql(`SELECT email FROM users WHERE email = ANY(${list})`));
  return { made, whole };
}
