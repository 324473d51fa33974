// Owns what the cluster tests do as a person and as an app, over plain HTTP: the portal's form
// posts with a cookie jar, aimed at one chosen node or at the balancer, and an authorization
// code flow for a first-party app.
import { createHash, randomBytes } from 'node:crypto';

/** Cookies as a browser keeps them: the latest value of each name. */
export class Jar {
  constructor() {
    this.cookies = new Map();
  }
  take(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(at + 1).trim());
    }
    return res;
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  copy(names) {
    const jar = new Jar();
    for (const name of names) if (this.cookies.has(name)) jar.cookies.set(name, this.cookies.get(name));
    return jar;
  }
}

/**
 * A person's browser: `post(to, endpoint, fields)` sends the server function's form to `to`
 * (a node's URL or the balancer's) as the page would, from the network `ip` (named in
 * X-Forwarded-For, which the nodes believe of the balancer and of 127.0.0.1).
 */
export function browser(cluster, ip) {
  const jar = new Jar();
  async function post(to, endpoint, fields = {}) {
    const res = await fetch(`${to}/api/${endpoint}`, {
      method: 'POST',
      headers: {
        Accept: 'application/json',
        Origin: cluster.baseURL,
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Forwarded-For': ip,
        Cookie: jar.header(),
      },
      body: new URLSearchParams(fields),
      redirect: 'manual',
    });
    return jar.take(res);
  }
  async function get(url) {
    const res = await fetch(url, { headers: { Cookie: jar.header(), 'X-Forwarded-For': ip }, redirect: 'manual' });
    return jar.take(res);
  }
  /** Who `to` says is signed in here: their email, or null. */
  async function whoAmI(to) {
    const res = await post(to, 'me');
    if (res.status !== 200) throw new Error(`me: ${res.status} ${await res.text()}`);
    const me = await res.json();
    return me?.email ?? null;
  }
  return { jar, post, get, whoAmI, ip };
}

let networks = 0;
/** A private address in a network no other person of this run uses. */
export function freshNetwork() {
  networks += 1;
  return `10.${(networks >> 8) & 255}.${networks & 255}.7`;
}

export const PASSWORD = 'cluster harness passphrase 42';

/** Posts a registration of `email` (the required terms accepted) to `to` from a fresh network. */
export function register(cluster, to, email, person = browser(cluster, freshNetwork())) {
  return person.post(to, 'register', {
    email, display_name: 'Cluster Person', password: PASSWORD, 'consent[terms]': '1', 'consent[privacy]': '1',
  });
}

/**
 * Registers `email` through `to`, marks the address proven and signs in: returns the
 * signed-in browser. Its device cookie is kept for later sign-ins.
 */
export async function signedUp(cluster, email, to = cluster.baseURL) {
  const person = browser(cluster, freshNetwork());
  const registered = await register(cluster, to, email, person);
  if (registered.status !== 200) throw new Error(`register: ${registered.status} ${await registered.text()}`);
  await cluster.sql(`UPDATE users SET email_verified_at = now() WHERE email = '${email}'`);
  await signIn(person, to, email);
  return person;
}

/** Signs `person` in as `email` at `to`; throws unless it worked. */
export async function signIn(person, to, email) {
  const res = await person.post(to, 'sign-in', { email, password: PASSWORD });
  if (res.status !== 200) throw new Error(`sign-in at ${to}: ${res.status} ${await res.text()}`);
  if ((await person.whoAmI(to)) !== email) throw new Error(`sign-in at ${to} left nobody signed in`);
}

/** Another browser of the same person (a new session, the same usual device). */
export function sameDevice(cluster, person) {
  const other = browser(cluster, person.ip);
  const device = person.jar.cookies.get('device');
  if (device) other.jar.cookies.set('device', device);
  return other;
}

/** The provider's endpoints, from its discovery document at `to`. */
export async function discovery(to) {
  const res = await fetch(`${to}/.well-known/openid-configuration`);
  if (res.status !== 200) throw new Error(`discovery: ${res.status}`);
  return res.json();
}

/**
 * Runs the authorization code flow (PKCE) for the first-party `app` in `person`'s signed-in
 * browser, starting at node `to`, and redeems the code at `redeemAt` (a node's URL; by default
 * the balancer); returns the tokens.
 */
export async function codeFlow(cluster, person, to, app, { redeemAt, scope = 'openid profile email' } = {}) {
  const meta = await discovery(cluster.baseURL);
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const query = new URLSearchParams({
    response_type: 'code', client_id: app.client_id, redirect_uri: app.redirect_uri,
    scope, state: randomBytes(8).toString('hex'), nonce: randomBytes(8).toString('hex'),
    code_challenge: challenge, code_challenge_method: 'S256',
  });
  let res = await person.get(`${to}/oauth2/authorize?${query}`);
  // The provider may pass through its own pages on the way back (each answering with a redirect).
  for (let hops = 0; hops < 5 && res.status >= 300 && res.status < 400; hops += 1) {
    const next = new URL(res.headers.get('location'), cluster.baseURL);
    if (next.href.startsWith(app.redirect_uri)) {
      const code = next.searchParams.get('code');
      if (!code) throw new Error(`no code in ${next.href}`);
      const tokens = await fetch(redeemAt ? `${redeemAt}/oauth2/token` : meta.token_endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: app.redirect_uri, code_verifier: verifier }),
      });
      if (tokens.status !== 200) throw new Error(`token: ${tokens.status} ${await tokens.text()}`);
      return tokens.json();
    }
    res = await person.get(`${to}${next.pathname}${next.search}`);
  }
  throw new Error(`authorize at ${to} ended with ${res.status}: ${(await res.text()).slice(0, 300)}`);
}
