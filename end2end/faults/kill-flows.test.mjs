// A node killed with SIGKILL in the middle of password resets, and again in the middle of an
// app's token requests, behind HAProxy with two more nodes; then a reconciler compares what
// each client was told with what the database holds. A request that got no answer from a node
// (the balancer's 503, or its connection closed without an answer) may have been applied or
// not, but wholly:
// - a reset told done changed the password, used its link up, ended every other sign-in (and
//   the app's refresh token) and told the owner; one not told is all of that or none of it, and
//   then its link still works; a used link is refused; each mail arrives under one Message-ID.
// - a code or refresh token told exchanged has its one successor; one not told has either its
//   successor (which nobody holds, and the client's retry, a replay, revokes the family) or
//   nothing (and the retry works). At the end no usable refresh token is one the app lacks,
//   each one the app holds works exactly once, and an old one coming back revokes its family.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

import { startCluster } from '../cluster/cluster.mjs';
import {
  PASSWORD, answerOf, authorizationCode, codeFlow, loadThroughKill, passwordWorks, patiently, redeemCode, refresh,
  sameDevice, signIn, signedUp,
} from '../cluster/people.mjs';
import { linkIn, startSmtpSink } from '../support/smtp-sink.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const unique = () => `flows-${randomBytes(5).toString('hex')}@example.com`;
const list = (values) => `ARRAY['${values.join("','")}']::text[]`;
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const RESET_SUBJECT = 'Reset your Keyhaven password';
const SCOPE = 'openid offline_access';
/** The outbox row a message was sent from: workers/mail.rs names it in the Message-ID. */
const outboxId = (message) => message.messageId.match(/^<outbox\.(\d+)\./)?.[1] ?? null;
/** The reset token in a reset mail's link. */
const tokenIn = (mail) => new URL(linkIn(mail, '/reset-password')).searchParams.get('token');
/** Whether an answer came from a node (which then decided) rather than from the balancer or nowhere. */
const fromNode = (answer) => answer.node !== null;

describe('kill -9 a node under password resets and token exchanges', () => {
  let cluster;
  let smtp;
  let app;
  let a;
  /** Rows of `statement`, each split into its columns. */
  const rows = async (statement) => (await cluster.sql(statement)).split('\n').filter(Boolean).map((l) => l.split('|'));

  before(async () => {
    smtp = await startSmtpSink();
    cluster = await startCluster({ env: { CIAM_SMTP_URL: smtp.url } });
    a = cluster.node('a').url;
    app = JSON.parse(
      await cluster.cli(['client', 'create', '--name', 'Shop', '--first-party', '--redirect-uri', 'https://shop.example/cb', '--json']),
    );
    app.redirect_uri = 'https://shop.example/cb';
  });

  after(async () => {
    await cluster?.stop();
    await smtp?.stop();
  });

  /** Waits until every mail is delivered (one a killed node had claimed waits out its 60 s lease), and a while longer. */
  async function drainOutbox() {
    const deadline = Date.now() + 90_000;
    while ((await cluster.sql('SELECT count(*) FROM mail_outbox WHERE delivered_at IS NULL')) !== '0') {
      assert.ok(Date.now() < deadline, 'the outbox drains');
      await sleep(200);
    }
    await sleep(3_000);
  }

  test('password resets through a node killed mid-flight: each applied whole or not at all, each link used once', async () => {
    // Someone who signed up earlier, signed in in the browser that will ask for the reset and in
    // another one that connected the app (a refresh token): a reset ends both.
    async function person() {
      const email = unique();
      const browser = await signedUp(cluster, email, a);
      const other = sameDevice(cluster, browser);
      await signIn(other, a, email);
      const { refresh_token: appToken } = await codeFlow(cluster, other, a, app, { redeemAt: a, scope: SCOPE });
      const [[userId, oldHash]] = await rows(`SELECT id, password_hash FROM users WHERE email = '${email}'`);
      return { email, browser, other, appToken, userId, oldHash };
    }
    const pool = [];
    for (let i = 0; i < 4; i += 1) pool.push(...(await Promise.all([person(), person(), person()])));

    const attempts = [];
    let resetting = 0;
    await loadThroughKill(
      cluster,
      async (phase) => {
        let someone = pool.shift();
        try {
          someone ??= await person();
        } catch {
          // Signing up more people is not what this test is about (a full hashing queue, say).
          await sleep(250);
          return;
        }
        const attempt = { ...someone, newPassword: `reset ${randomBytes(6).toString('hex')} phrase` };
        attempts.push(attempt);
        attempt.phase = phase();
        attempt.asked = await patiently(() => attempt.browser.post(cluster.baseURL, 'forgot-password', { email: attempt.email }));
        if (attempt.asked.status !== 200) return;
        try {
          attempt.token = tokenIn(await smtp.waitForMail({ to: attempt.email, subject: RESET_SUBJECT, timeout: 90_000 }));
        } catch (e) {
          attempt.mailLost = e.message;
          return;
        }
        attempt.resetter = sameDevice(cluster, attempt.browser);
        attempt.phase = phase();
        resetting += 1;
        attempt.reset = await patiently(() =>
          attempt.resetter.post(cluster.baseURL, 'reset-password', { token: attempt.token, password: attempt.newPassword }),
        );
        resetting -= 1;
      },
      // Killed while two resets are in flight, so that B likely has one.
      { workers: 4, down: 3_000, after: 4_000, killWhen: () => resetting >= 2 },
    );

    const told = attempts.filter((t) => t.reset?.status === 200);
    const unanswered = attempts.filter((t) => !fromNode(t.asked) || (t.reset && !fromNode(t.reset)));
    console.log(
      `${attempts.length} resets: ${told.length} told done, ${unanswered.length} unanswered ` +
        `(${unanswered.map((t) => `${t.phase}: ${t.reset ? `reset ${t.reset.status}` : `ask ${t.asked.status}`}`).join(', ') || 'none'})`,
    );
    const problems = [];
    const check = (ok, what) => ok || problems.push(what);
    for (const t of attempts) {
      for (const [step, answer] of [['forgot-password', t.asked], ['reset-password', t.reset]]) {
        if (answer && fromNode(answer)) check(answer.status === 200, `${t.email}: node ${answer.node} answered ${step} ${answer.status}: ${answer.text.slice(0, 300)}`);
      }
      check(!t.mailLost, `${t.email}: told the link was mailed, but ${t.mailLost}`);
    }
    assert.ok(told.some((t) => t.phase === 'killed'), 'the other nodes went on while B was down');
    assert.ok(told.some((t) => t.phase === 'restarted' && t.reset.node === 'b'), 'the restarted node serves again');

    // The reconciler: what the database holds, before anything else is done.
    const held = new Map(
      (
        await rows(
          `SELECT u.email, u.password_hash,
                  (SELECT count(*) FROM one_time_tokens t WHERE t.user_id = u.id AND t.purpose = 'reset_password'),
                  (SELECT count(*) FROM one_time_tokens t WHERE t.user_id = u.id AND t.purpose = 'reset_password' AND t.used_at IS NOT NULL),
                  (SELECT count(*) FROM mail_outbox m WHERE m.recipient = u.email AND m.kind = 'reset_password'),
                  (SELECT count(*) FROM mail_outbox m WHERE m.recipient = u.email AND m.kind = 'password_changed'),
                  (SELECT count(*) FROM refresh_tokens r WHERE r.user_id = u.id AND r.revoked_at IS NULL),
                  (SELECT count(*) FROM sessions s WHERE s.user_id = u.id)
           FROM users u WHERE u.email = ANY(${list(attempts.map((t) => t.email))})`,
        )
      ).map(([email, hash, ...counts]) => {
        const [tokens, used, resetMails, changedMails, liveRefresh, sessions] = counts.map(Number);
        return [email, { hash, tokens, used, resetMails, changedMails, liveRefresh, sessions }];
      }),
    );
    const ended = async (t) => {
      for (const node of cluster.nodes) if ((await t.browser.whoAmI(node.url)) !== null) return false;
      return (await t.other.whoAmI(a)) === null;
    };
    for (const t of attempts) {
      const db = held.get(t.email);
      const who = `${t.email} (asked: ${t.asked.status}, reset: ${t.reset?.status ?? 'not tried'}, ${t.phase})`;
      // Asking for a link writes its token and its mail together, or neither.
      check(db.tokens === db.resetMails && db.tokens <= 1, `${who}: ${db.tokens} reset tokens but ${db.resetMails} reset mails`);
      if (t.asked.status === 200) check(db.tokens === 1, `${who}: told a link was mailed, but no token is stored`);
      // A reset uses the link, changes the password, ends every sign-in and mails the owner, together.
      const applied = db.used === 1;
      check(db.changedMails === db.used, `${who}: link used ${db.used}, ${db.changedMails} "password changed" mails`);
      check(applied === (db.hash !== t.oldHash), `${who}: link used ${db.used}, but the password ${db.hash !== t.oldHash ? 'changed' : 'did not change'}`);
      if (t.reset?.status === 200) check(applied, `${who}: told the password was reset, but the link is unused`);
      if (applied) {
        check(db.liveRefresh === 0, `${who}: reset, but ${db.liveRefresh} refresh tokens not revoked`);
        check(db.sessions <= 1, `${who}: reset, but ${db.sessions} sessions are left (at most the resetting browser's)`);
        check(await ended(t), `${who}: reset, but an earlier sign-in still works`);
        if (t.reset?.status === 200) check((await t.resetter.whoAmI(a)) === t.email, `${who}: told reset, but not signed in`);
        const app_ = await answerOf(refresh(a, app, t.appToken));
        check(app_.status === 400, `${who}: reset, but the app's refresh token got ${app_.status}`);
        check(await passwordWorks(cluster, t.browser, a, t.email, t.newPassword), `${who}: reset, but the new password fails`);
        check(!(await passwordWorks(cluster, t.browser, a, t.email, PASSWORD)), `${who}: reset, but the old password still works`);
      } else {
        check(db.liveRefresh === 1, `${who}: not reset, but the app's refresh token is revoked`);
        check((await t.browser.whoAmI(a)) === t.email, `${who}: not reset, but the browser was signed out`);
        check(await passwordWorks(cluster, t.browser, a, t.email, PASSWORD), `${who}: not reset, but the old password fails`);
      }
    }

    // A link that was mailed and not used still works: the reset is done now, wholly.
    const finish = attempts.filter((t) => held.get(t.email).used === 0 && held.get(t.email).tokens === 1);
    for (const t of finish) {
      try {
        t.token ??= tokenIn(await smtp.waitForMail({ to: t.email, subject: RESET_SUBJECT, timeout: 90_000 }));
      } catch (e) {
        check(false, `${t.email}: a reset link is stored, but ${e.message}`);
        continue;
      }
      t.resetter ??= sameDevice(cluster, t.browser);
      const done = await answerOf(t.resetter.post(a, 'reset-password', { token: t.token, password: t.newPassword }));
      check(done.status === 200, `${t.email}: the unused link of an unanswered reset got ${done.status}: ${done.text.slice(0, 300)}`);
      check(await ended(t), `${t.email}: reset afterwards, but an earlier sign-in still works`);
      check((await answerOf(refresh(a, app, t.appToken))).status === 400, `${t.email}: reset afterwards, but the app's refresh token works`);
      check(await passwordWorks(cluster, t.browser, a, t.email, t.newPassword), `${t.email}: reset afterwards, but the new password fails`);
    }

    // Every link is used once: a used one coming back is refused and changes nothing.
    const used = attempts.filter((t) => t.token && (held.get(t.email).used === 1 || finish.includes(t)));
    for (const t of used) {
      const [[before]] = await rows(`SELECT password_hash FROM users WHERE id = '${t.userId}'`);
      const again = await answerOf(sameDevice(cluster, t.browser).post(a, 'reset-password', { token: t.token, password: `replayed ${t.newPassword}` }));
      check(again.status >= 400 && again.status < 500, `${t.email}: a used link came back and got ${again.status}`);
      const [[after_]] = await rows(`SELECT password_hash FROM users WHERE id = '${t.userId}'`);
      check(before === after_, `${t.email}: a used link came back and changed the password`);
    }
    const appliedUnanswered = unanswered.filter((t) => held.get(t.email).used === 1).length;
    console.log(
      `of the unanswered, ${appliedUnanswered} had been applied and ${unanswered.length - appliedUnanswered} not; ` +
        `${finish.length} resets finished afterwards with their mailed link, ${used.length} used links refused again`,
    );

    // Each reset and "password changed" mail arrives, under its row's one Message-ID.
    await drainOutbox();
    const queued = await rows(
      `SELECT id, recipient, kind FROM mail_outbox
       WHERE kind IN ('reset_password', 'password_changed') AND recipient = ANY(${list(attempts.map((t) => t.email))})`,
    );
    const emails = attempts.map((t) => t.email);
    const received = smtp.messages.filter((m) => m.to.some((to) => emails.includes(to)));
    for (const [id, recipient, kind] of queued) {
      const copies = received.filter((m) => outboxId(m) === id);
      check(copies.length > 0, `${kind} mail ${id} to ${recipient} never delivered`);
      check(new Set(copies.map((m) => m.messageId)).size <= 1, `${kind} mail ${id} sent under several Message-IDs`);
      check(copies.every((m) => m.to.length === 1 && m.to[0] === recipient), `${kind} mail ${id} went to ${copies.map((m) => m.to)}`);
    }
    const rowIds = new Set((await rows(`SELECT id FROM mail_outbox WHERE recipient = ANY(${list(emails)})`)).map(([id]) => id));
    const stray = received.filter((m) => !rowIds.has(outboxId(m)));
    check(stray.length === 0, `mail no outbox row accounts for: ${stray.map((m) => `${m.messageId} ${m.subject}`)}`);
    const resent = received.length - new Set(received.map((m) => m.messageId)).size;
    console.log(`${queued.length} reset mails queued, ${received.length} received, ${resent} sent again under the same Message-ID`);
    assert.deepEqual(problems, []);
  });

  test('code exchanges and refresh rotations through a node killed mid-flight: each issued whole or not at all, each used once', async () => {
    const apps = [];
    for (let i = 0; i < 6; i += 1) {
      const email = unique();
      apps.push({ email, person: await signedUp(cluster, email, a), held: null, turns: 0 });
    }
    const requests = [];
    const authorizeFailed = [];
    let inFlight = 0;
    await loadThroughKill(cluster, async (phase, worker) => {
      const w = apps[worker];
      let request;
      if (!w.held) {
        // A new grant: the code comes back to the app through the browser, the app redeems it.
        let code;
        try {
          code = await authorizationCode(cluster, w.person, cluster.baseURL, app, { scope: SCOPE });
        } catch (e) {
          authorizeFailed.push(e.message.slice(0, 80));
          await sleep(100);
          return;
        }
        request = { grant: 'code', presented: code.code, phase: phase(), retry: () => redeemCode(a, app, code) };
        inFlight += 1;
        request.answer = await answerOf(redeemCode(cluster.baseURL, app, code));
        inFlight -= 1;
        w.turns = 0;
      } else {
        const presented = w.held;
        request = { grant: 'refresh', presented, phase: phase(), retry: () => refresh(a, app, presented) };
        inFlight += 1;
        request.answer = await answerOf(refresh(cluster.baseURL, app, presented));
        inFlight -= 1;
        w.turns += 1;
      }
      requests.push(request);
      request.issued = request.answer.status === 200 ? request.answer.json?.refresh_token : null;
      // A grant rotates four times; then the app starts another, keeping the last token.
      w.held = request.issued && w.turns < 4 ? request.issued : null;
      await sleep(5);
    }, { workers: apps.length, killWhen: () => inFlight >= 3 });

    const told = requests.filter((r) => r.answer.status === 200);
    const unanswered = requests.filter((r) => !fromNode(r.answer));
    console.log(
      `${requests.length} token requests: ${told.length} told issued, ${unanswered.length} unanswered ` +
        `(${unanswered.map((r) => `${r.grant} ${r.answer.status} ${r.phase}`).join(', ') || 'none'}); ` +
        `${authorizeFailed.length} authorizations failed (${[...new Set(authorizeFailed)].join('; ') || 'none'})`,
    );
    const problems = [];
    const check = (ok, what) => ok || problems.push(what);
    for (const r of requests.filter((r) => fromNode(r.answer) && r.answer.status !== 200)) {
      check(false, `${r.grant} ${r.presented.slice(0, 8)}… (${r.phase}): node ${r.answer.node} answered ${r.answer.status}: ${r.answer.text.slice(0, 300)}`);
    }
    for (const r of told) check(typeof r.issued === 'string', `${r.grant} told issued without a refresh token: ${r.answer.text.slice(0, 200)}`);
    assert.ok(told.some((r) => r.phase === 'killed'), 'the other nodes went on while B was down');
    assert.ok(told.some((r) => r.phase === 'restarted' && r.answer.node === 'b'), 'the restarted node serves again');

    // What the app holds: every refresh token it was given and has not presented.
    const people = `(SELECT id FROM users WHERE email = ANY(${list(apps.map((w) => w.email))}))`;
    const presented = new Set(requests.map((r) => r.presented));
    const holding = new Map(told.filter((r) => r.issued && !presented.has(r.issued)).map((r) => [sha256(r.issued), r.issued]));
    const snapshot = async () => {
      const tokens = (
        await rows(
          `SELECT encode(token_hash, 'hex'), family_id, coalesce(encode(code_hash, 'hex'), ''), used_at IS NOT NULL,
                  revoked_at IS NULL AND used_at IS NULL AND expires_at > now()
           FROM refresh_tokens WHERE client_id = '${app.client_id}' AND user_id IN ${people}`,
        )
      ).map(([hash, family, code, used, usable]) => ({ hash, family, code, used: used === 't', usable: usable === 't' }));
      const codes = new Map(
        (
          await rows(
            `SELECT encode(code_hash, 'hex'), used_at IS NOT NULL, coalesce(grant_id::text, ''), expires_at <= now()
             FROM authorization_codes WHERE client_id = '${app.client_id}' AND user_id IN ${people}`,
          )
        ).map(([hash, used, grant, expired]) => [hash, { used: used === 't', grant, expired: expired === 't' }]),
      );
      return { tokens, codes, byHash: new Map(tokens.map((t) => [t.hash, t])) };
    };
    /** Every family: one token from its code, and one successor for each use (nothing half-rotated). */
    const checkFamilies = (db, when) => {
      const families = new Map();
      for (const t of db.tokens) families.set(t.family, [...(families.get(t.family) ?? []), t]);
      for (const [family, tokens] of families) {
        const used = tokens.filter((t) => t.used).length;
        const fromCode = tokens.filter((t) => t.code).length;
        check(tokens.length === used + 1 && fromCode === 1, `${when}: family ${family} has ${tokens.length} tokens, ${used} used, ${fromCode} from a code`);
      }
      for (const [hash] of db.codes) {
        const redeemed = db.tokens.filter((t) => t.code === hash).length;
        check(redeemed <= 1, `${when}: code ${hash.slice(0, 8)}… started ${redeemed} families`);
      }
    };
    const usableOf = (db, family) => db.tokens.filter((t) => t.family === family && t.usable);

    // The reconciler, before the app does anything more.
    const db = await snapshot();
    checkFamilies(db, 'after the load');
    const familyOf = (r) => (r.grant === 'code' ? db.codes.get(sha256(r.presented))?.grant : db.byHash.get(sha256(r.presented))?.family);
    for (const r of told) {
      const issued = db.byHash.get(sha256(r.issued));
      check(issued && issued.family === familyOf(r), `${r.grant} told issued: its refresh token ${issued ? `is in family ${issued.family}, not ${familyOf(r)}` : 'is not stored'}`);
      if (r.grant === 'code') check(issued?.code === sha256(r.presented), `code told redeemed: its refresh token does not name it`);
      else check(db.byHash.get(sha256(r.presented))?.used, 'refresh told rotated: the presented token is not used');
    }
    // An unanswered request was applied (the presented code or token used, and its one successor
    // stored, which nobody holds) or not at all (nothing used, nothing stored).
    const orphans = new Set();
    for (const r of unanswered) {
      const who = `unanswered ${r.grant} (${r.answer.status}, ${r.phase})`;
      if (r.grant === 'code') {
        const code = db.codes.get(sha256(r.presented));
        const tokens = db.tokens.filter((t) => t.code === sha256(r.presented));
        r.applied = code?.used ?? false;
        check(code !== undefined, `${who}: the code is not stored`);
        check(tokens.length === (r.applied ? 1 : 0), `${who}: code used ${r.applied}, ${tokens.length} refresh tokens from it`);
        check(!r.applied || (tokens[0]?.family === code.grant && tokens[0]?.usable), `${who}: used, but its token is not its grant's or not usable`);
        r.expired = code?.expired;
      } else {
        const token = db.byHash.get(sha256(r.presented));
        r.applied = token?.used ?? false;
        const others = usableOf(db, token?.family).filter((t) => t.hash !== token?.hash);
        check(others.length === (r.applied ? 1 : 0), `${who}: token used ${r.applied}, ${others.length} other usable tokens in its family`);
        check(r.applied || token?.usable, `${who}: not used, but not usable either`);
      }
      if (r.applied) for (const t of usableOf(db, familyOf(r))) orphans.add(t.hash);
    }
    const stranded = db.tokens.filter((t) => t.usable && !holding.has(t.hash) && !orphans.has(t.hash) && !unanswered.some((r) => sha256(r.presented) === t.hash));
    check(stranded.length === 0, `usable refresh tokens nobody was given: ${stranded.map((t) => `${t.hash.slice(0, 8)}… of ${t.family}`)}`);

    // The app tries each unanswered request again: one that was applied comes back as a replay
    // and ends its family; one that was not is done now.
    for (const r of unanswered) {
      const again = await answerOf(r.retry());
      const who = `retried ${r.grant} (applied ${r.applied}, ${r.phase})`;
      if (r.applied || r.expired) {
        check(again.status === 400 && again.json?.error === 'invalid_grant', `${who}: ${again.status} ${again.text.slice(0, 200)}`);
      } else {
        check(again.status === 200 && again.json?.refresh_token, `${who}: ${again.status} ${again.text.slice(0, 200)}`);
        if (again.json?.refresh_token) holding.set(sha256(again.json.refresh_token), again.json.refresh_token);
      }
      if (r.applied) check(usableOf(await snapshot(), familyOf(r)).length === 0, `${who}: its family still has a usable token`);
    }
    console.log(`of the unanswered, ${unanswered.filter((r) => r.applied).length} had been applied and ${unanswered.filter((r) => !r.applied).length} not`);
    const retried = await snapshot();
    checkFamilies(retried, 'after the retries');
    const orphaned = retried.tokens.filter((t) => t.usable && !holding.has(t.hash));
    check(orphaned.length === 0, `after the retries, usable refresh tokens the app does not hold: ${orphaned.map((t) => t.family)}`);

    // Each token the app holds works once. Half the grants see an old one come back first: the
    // family ends, the one held with it.
    let shown = 0;
    for (const [i, token] of [...holding.values()].entries()) {
      const family = retried.byHash.get(sha256(token))?.family;
      const old = requests.find((r) => r.grant === 'refresh' && r.answer.status === 200 && retried.byHash.get(sha256(r.presented))?.family === family);
      if (i % 2 === 0 && old) {
        const replay = await answerOf(refresh(a, app, old.presented));
        check(replay.status === 400, `an old refresh token came back and got ${replay.status}`);
        const after_ = await answerOf(refresh(a, app, token));
        check(after_.status === 400, `the held token of a family an old one came back to got ${after_.status}`);
        shown += 1;
        continue;
      }
      const first = await answerOf(refresh(a, app, token));
      check(first.status === 200, `a held refresh token got ${first.status}: ${first.text.slice(0, 200)}`);
      const second = await answerOf(refresh(a, app, token));
      check(second.status === 400, `a held refresh token used twice got ${second.status}`);
      if (first.json?.refresh_token) {
        const successor = await answerOf(refresh(a, app, first.json.refresh_token));
        check(successor.status === 400, `the successor of a token used twice got ${successor.status}: its family lives on`);
      }
    }
    for (const r of told.filter((r) => r.grant === 'code')) {
      const again = await answerOf(redeemCode(a, app, { code: r.presented, verifier: 'x'.repeat(43) }));
      check(again.status === 400, `a redeemed code came back and got ${again.status}`);
    }
    const last = await snapshot();
    checkFamilies(last, 'at the end');
    check(last.tokens.every((t) => !t.usable), 'a refresh token is usable after every family ended');
    console.log(`${holding.size} held refresh tokens checked, ${shown} of them after an old one came back`);
    assert.deepEqual(problems, []);
  });
});
