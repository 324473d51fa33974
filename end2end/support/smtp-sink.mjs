// Owns the test SMTP sink: a local smtp-server that parses every message the app sends and lets tests wait for them.
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

/** A received message, parsed. */
function summarize(envelope, parsed) {
  return {
    from: parsed.from?.text ?? '',
    to: (envelope.rcptTo ?? []).map((r) => r.address.toLowerCase()),
    subject: parsed.subject ?? '',
    messageId: parsed.messageId ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
    receivedAt: Date.now(),
    taken: false,
  };
}

function matches(pattern, value) {
  if (pattern === undefined) return true;
  if (pattern instanceof RegExp) return pattern.test(value);
  return value === pattern;
}

/**
 * Starts the sink on 127.0.0.1 at a random port, or at `port`.
 * @returns {Promise<{port: number, url: string, messages: object[], waitForMail: Function, stop: Function}>}
 */
export async function startSmtpSink({ port: chosenPort = 0 } = {}) {
  const messages = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    banner: 'end2end sink',
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          messages.push(summarize(session.envelope, parsed));
          callback();
        })
        .catch(callback);
    },
  });
  server.on('error', (err) => console.error('smtp sink:', err));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(chosenPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.server.address();

  /**
   * Resolves with the first message not yet returned by an earlier call whose recipient is `to`
   * and whose subject equals `subject` (string) or matches it (RegExp); polls until `timeout` ms.
   * Each message is returned once, so waiting twice for the same kind of mail waits for a new one.
   */
  async function waitForMail({ to, subject, timeout = 10_000 } = {}) {
    const recipient = to?.toLowerCase();
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = messages.find(
        (m) => !m.taken && (recipient === undefined || m.to.includes(recipient)) && matches(subject, m.subject),
      );
      if (found) {
        found.taken = true;
        return found;
      }
      if (Date.now() > deadline) {
        const seen = messages.map((m) => `  ${m.to.join(',')}: ${m.subject}${m.taken ? ' (taken)' : ''}`).join('\n');
        throw new Error(`no mail to ${to} with subject ${subject} within ${timeout} ms; received:\n${seen || '  (none)'}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Messages to `to` (all of them, taken or not). */
  function mailTo(to) {
    return messages.filter((m) => m.to.includes(to.toLowerCase()));
  }

  async function stop() {
    await new Promise((resolve) => server.close(resolve));
  }

  return { port, url: `smtp://127.0.0.1:${port}`, messages, waitForMail, mailTo, stop };
}

/** The 6-digit code a mail's subject ends with (sign-in and confirmation codes). */
export function codeIn(mail) {
  const found = mail.subject.match(/(\d{6})$/);
  if (!found) throw new Error(`no code in the subject "${mail.subject}"`);
  return found[1];
}

/** The first URL in `mail`'s text whose path is `path` (e.g. "/verify-email"). */
export function linkIn(mail, path) {
  for (const raw of mail.text.match(/https?:\/\/[^\s<>"')\]]+/g) ?? []) {
    const url = new URL(raw);
    if (url.pathname === path) return url.href;
  }
  throw new Error(`no ${path} link in mail "${mail.subject}":\n${mail.text}`);
}
