// Owns what the cluster tests do as a person and as an app, over plain HTTP: the portal's form
// posts with a cookie jar, aimed at one chosen node or at the balancer, an authorization code
// flow for a first-party app and its token requests, and the load the fault tests keep up
// while a node is killed.
import { createHash, randomBytes } from 'node:crypto';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

/** Signs `person` in as `email` at `to` (with `password`); throws unless it worked. */
export async function signIn(person, to, email, password = PASSWORD) {
  const res = await person.post(to, 'sign-in', { email, password });
  if (res.status !== 200) throw new Error(`sign-in at ${to}: ${res.status} ${await res.text()}`);
  if ((await person.whoAmI(to)) !== email) throw new Error(`sign-in at ${to} left nobody signed in`);
}

/** Whether `password` signs `email` in at `to`, tried in a new browser on `person`'s device. */
export async function passwordWorks(cluster, person, to, email, password) {
  const other = sameDevice(cluster, person);
  const res = await other.post(to, 'sign-in', { email, password });
  await res.arrayBuffer();
  return res.status === 200 && (await other.whoAmI(to)) === email;
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

/** `Authorization` for `app`'s client_secret_basic. */
function basic(app) {
  return `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`;
}

/** Posts `fields` to the token endpoint at `to` (a node's URL or the balancer's) as `app`; returns the answer. */
export function tokenRequest(to, app, fields) {
  return fetch(`${to}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(app) },
    body: new URLSearchParams(fields),
  });
}

/** Redeems an authorization code (with its PKCE verifier) at `to`; returns the answer. */
export function redeemCode(to, app, { code, verifier }) {
  return tokenRequest(to, app, { grant_type: 'authorization_code', code, redirect_uri: app.redirect_uri, code_verifier: verifier });
}

/** Exchanges a refresh token for new tokens at `to`; returns the answer. */
export function refresh(to, app, refreshToken) {
  return tokenRequest(to, app, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

/**
 * The first half of the authorization code flow (PKCE) for the first-party `app` in `person`'s
 * signed-in browser, starting at `to`: returns the code the provider sent back to the app, with
 * the verifier that redeems it.
 */
export async function authorizationCode(cluster, person, to, app, { scope = 'openid profile email' } = {}) {
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
      return { code, verifier };
    }
    res = await person.get(`${to}${next.pathname}${next.search}`);
  }
  throw new Error(`authorize at ${to} ended with ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

/**
 * Runs the authorization code flow (PKCE) for the first-party `app` in `person`'s signed-in
 * browser, starting at node `to`, and redeems the code at `redeemAt` (a node's URL; by default
 * the balancer); returns the tokens.
 */
export async function codeFlow(cluster, person, to, app, { redeemAt = cluster.baseURL, scope = 'openid profile email' } = {}) {
  const code = await authorizationCode(cluster, person, to, app, { scope });
  const tokens = await redeemCode(redeemAt, app, code);
  if (tokens.status !== 200) throw new Error(`token: ${tokens.status} ${await tokens.text()}`);
  return tokens.json();
}

/**
 * What a request came to: its status, the node that answered (`X-Served-By`, which the balancer
 * puts on the nodes' answers and not on its own, such as a 502 for a node that died mid-request)
 * and its body (`json` when it parses). A request that got no answer at all has the status
 * `error: ...` and no node.
 */
export async function answerOf(request) {
  try {
    const res = await request;
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, node: res.headers.get('x-served-by'), text, json };
  } catch (e) {
    return { status: `error: ${e.cause?.message ?? e.message}`, node: null, text: '', json: null };
  }
}

/**
 * `answerOf(request())`, asked again while a node answers 503 (its hashing queue is full: nothing
 * was done, come back in a moment), a quarter of a second apart, at most `times` more times.
 */
export async function patiently(request, times = 20) {
  for (let i = 0; ; i += 1) {
    const answer = await answerOf(request());
    if (answer.status !== 503 || answer.node === null || i >= times) return answer;
    await sleep(250);
  }
}

/**
 * Keeps `workers` loops of `step(phase, worker)` going while node `name` is killed with SIGKILL
 * and started again: `before` ms of load, the kill, `down` ms, the restart, `after` ms more.
 * `phase()` says which part it is now: 'before', 'killed' or 'restarted'. With `killWhen`, the
 * kill waits after `before` until it says so (for at most 10 s, checked each millisecond): e.g.
 * until several requests are in flight, so that some are on the node it kills. A loop ends
 * with the load, or earlier when its step returns false; this resolves when every loop has
 * ended.
 */
export async function loadThroughKill(
  cluster, step, { workers = 4, name = 'b', before = 2_000, down = 2_000, after = 2_000, killWhen = () => true } = {},
) {
  let phase = 'before';
  let running = true;
  const now = () => phase;
  const loops = Array.from({ length: workers }, async (_, worker) => {
    while (running && (await step(now, worker)) !== false);
  });
  try {
    await sleep(before);
    for (const until = Date.now() + 10_000; !killWhen() && Date.now() < until; ) await sleep(1);
    phase = 'killed';
    await cluster.node(name).kill();
    await sleep(down);
    phase = 'restarted';
    await cluster.restart(name);
    await sleep(after);
  } finally {
    running = false;
    await Promise.allSettled(loops);
  }
  await Promise.all(loops);
}
