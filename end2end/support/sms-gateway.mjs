// A local SMS gateway for the server under test: it takes the texts the server POSTs (JSON
// `{"id", "to", "body"}`, as to any real gateway) and keeps them for the tests to read.
import { createServer } from 'node:http';

/**
 * Starts the gateway on 127.0.0.1 at a free port.
 * @returns {Promise<{url: string, texts: {to: string, body: string}[], codesTo: (phone: string) => string[], stop: () => Promise<void>}>}
 */
export async function startSmsGateway() {
  const texts = [];
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/send') {
      res.statusCode = 404;
      res.end();
      return;
    }
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        const text = JSON.parse(body);
        texts.push({ to: text.to, body: text.body });
        res.statusCode = 200;
      } catch {
        res.statusCode = 400;
      }
      res.end();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}/send`;
  return {
    url,
    texts,
    /** The codes texted to `phone` so far, oldest first (the WebOTP line ends each text). */
    codesTo(phone) {
      return texts
        .filter((t) => t.to === phone)
        .map((t) => /#(\d{6})\s*$/.exec(t.body)?.[1])
        .filter(Boolean);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
