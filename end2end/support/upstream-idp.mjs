// Owns the upstream identity provider for social sign-in: a local oidc-provider that signs its one
// user in without a human, and the clients whose ID tokens it tampers with.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';

export const defaultUpstreamUser = Object.freeze({
  sub: 'upstream-user-1',
  email: 'social@example.test',
  email_verified: true,
  name: 'Sam Social',
});

/** Models whose records a revoked grant takes with it. */
const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * oidc-provider's storage, kept in this provider instance only (the built-in one is process-wide
 * and announces itself on stderr). Expiry is checked on read. `endSessions()` signs everyone out.
 */
function memoryAdapter() {
  const store = new Map();
  const get = (key) => {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt && entry.expiresAt < Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  class Adapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
      store.set(this.key(id), { payload, expiresAt });
      if (grantable.has(this.model) && payload.grantId) store.set(`grant:${payload.grantId}:${this.key(id)}`, { payload: this.key(id), expiresAt });
      if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: id, expiresAt });
      if (this.model === 'Session') store.set(`sessionUid:${payload.uid}`, { payload: id, expiresAt });
    }

    async find(id) {
      return get(this.key(id));
    }

    async findByUserCode(userCode) {
      const id = get(`userCode:${userCode}`);
      return id && this.find(id);
    }

    async findByUid(uid) {
      const id = get(`sessionUid:${uid}`);
      return id && this.find(id);
    }

    async consume(id) {
      const payload = get(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id) {
      store.delete(this.key(id));
    }

    async revokeByGrantId(grantId) {
      const prefix = `grant:${grantId}:`;
      for (const [key, entry] of store) {
        if (!key.startsWith(prefix)) continue;
        store.delete(entry.payload);
        store.delete(key);
      }
    }
  }
  function endSessions() {
    for (const key of store.keys()) if (key.startsWith('Session:') || key.startsWith('sessionUid:')) store.delete(key);
  }
  return { Adapter, endSessions };
}

function freshSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `upstream-${randomUUID()}`, alg: 'RS256', use: 'sig' };
}

/** Text for errors that happen inside the provider, so a failing test shows why. */
function describe(out, error) {
  const detail = error?.error_detail ? ` (${error.error_detail})` : '';
  return `${out.error}: ${out.error_description ?? ''}${detail}`;
}

/**
 * Starts an OpenID Connect provider on 127.0.0.1 at a free port, with issuer
 * `http://localhost:<port>`. Sign-in and consent complete on their own: every authorization
 * request signs in `user` and grants what was asked. The three confidential clients accept
 * client_secret_basic or client_secret_post, require PKCE (S256) and may only redirect to
 * `redirectUris`:
 * - `good` behaves.
 * - `badNonce` gets ID tokens whose `nonce` is "tampered-nonce".
 * - `badAudience` gets ID tokens whose `aud` is "someone-else".
 * The tampered tokens are re-signed with the provider's own key, so their signatures verify
 * against its JWKS. Claims are returned in the ID token as well as from userinfo, per scope:
 * openid → sub, email → email and email_verified, profile → name; with `conformant: true`
 * (oidc-provider's own default, OpenID Connect Core §5.4) the ID token carries only `sub` and
 * the scope claims come from userinfo alone.
 * @param {{redirectUris: string[], user?: {sub: string, email: string, email_verified: boolean, name: string}, conformant?: boolean}} options
 * @returns {Promise<{issuer: string, clients: {good: {clientId: string, clientSecret: string}, badNonce: {clientId: string, clientSecret: string}, badAudience: {clientId: string, clientSecret: string}}, setUser: (user: object) => void, stop: () => Promise<void>}>}
 */
export async function startUpstreamIdp({ redirectUris, user = defaultUpstreamUser, conformant = false } = {}) {
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) throw new TypeError('startUpstreamIdp: redirectUris must be a non-empty array');
  let current = { ...user };

  const clients = {
    good: { clientId: 'keyhaven-good', clientSecret: randomBytes(24).toString('base64url') },
    badNonce: { clientId: 'keyhaven-bad-nonce', clientSecret: randomBytes(24).toString('base64url') },
    badAudience: { clientId: 'keyhaven-bad-audience', clientSecret: randomBytes(24).toString('base64url') },
  };
  const tamper = {
    [clients.badNonce.clientId]: { nonce: 'tampered-nonce' },
    [clients.badAudience.clientId]: { aud: 'someone-else' },
  };

  const signingJwk = freshSigningKey();
  const signingKey = await importJWK(signingJwk, 'RS256');

  // The port is needed for the issuer before the provider exists: listen first, attach after.
  let handler = (req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const issuer = `http://localhost:${server.address().port}`;

  const storage = memoryAdapter();
  const cookie = { httpOnly: true, sameSite: 'lax', secure: false, signed: true };
  const provider = new Provider(issuer, {
    adapter: storage.Adapter,
    clients: Object.values(clients).map(({ clientId, clientSecret }) => ({
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    })),
    jwks: { keys: [signingJwk] },
    async findAccount(ctx, sub) {
      if (sub !== current.sub) return undefined;
      const claims = { ...current };
      return { accountId: sub, claims: async () => claims };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Like the big social providers: scope claims in the ID token too, not only from userinfo
    // (unless asked to behave as the spec and a stock oidc-provider do).
    conformIdTokenClaims: conformant,
    pkce: { methods: ['S256'], required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    // Served over plain http on localhost: cookies must not be Secure, and SameSite=None (the
    // default for the session cookie) is dropped by Chromium without Secure, so Lax throughout.
    // Cookies ignore ports, so the app under test on localhost sees these too: hence the names.
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      names: { session: 'upstream_session', interaction: 'upstream_interaction', resume: 'upstream_interaction_resume' },
      long: cookie,
      short: cookie,
    },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
    clientBasedCORS: () => true,
    async renderError(ctx, out, error) {
      console.error(`upstream IdP: ${describe(out, error)}`);
      ctx.type = 'html';
      const rows = Object.entries(out).map(([k, v]) => `<p><b>${k}</b>: ${String(v).replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</p>`);
      ctx.body = `<!DOCTYPE html><html><head><title>Upstream IdP error</title></head><body><h1>Upstream IdP error</h1>${rows.join('')}</body></html>`;
    },
  });
  // Nothing sits in front of it: trust no X-Forwarded-* headers.
  provider.proxy = false;
  provider.on('server_error', (ctx, err) => console.error('upstream IdP server error:', err));

  // Misbehaving clients: rewrite the ID token the token endpoint is about to return.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== '/token' || ctx.status !== 200 || typeof ctx.body?.id_token !== 'string') return;
    const claims = decodeJwt(ctx.body.id_token);
    const clientId = ctx.oidc?.client?.clientId ?? claims.aud;
    const change = tamper[clientId];
    if (!change) return;
    const header = decodeProtectedHeader(ctx.body.id_token);
    ctx.body = {
      ...ctx.body,
      id_token: await new SignJWT({ ...claims, ...change }).setProtectedHeader({ ...header, alg: 'RS256', kid: signingJwk.kid }).sign(signingKey),
    };
  });

  // Sign-in and consent without a human.
  provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
    if (!match) return next();
    try {
      if (ctx.method !== 'GET') ctx.throw(405);
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== match[1]) ctx.throw(400, 'interaction cookie does not match the URL');
      const { prompt, params, session } = details;
      let result;
      if (prompt.name === 'login') {
        result = { login: { accountId: current.sub } };
      } else if (prompt.name === 'consent') {
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
        const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
        if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
        if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
        for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
        const grantId = await grant.save();
        result = { consent: details.grantId ? {} : { grantId } };
      } else {
        ctx.throw(400, `unexpected prompt ${prompt.name}`);
      }
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
      ctx.redirect(returnTo);
      ctx.status = 303;
    } catch (err) {
      const why = `${err.name}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`;
      console.error(`upstream IdP: interaction ${ctx.path} failed: ${why}`);
      ctx.status = err.status ?? err.statusCode ?? 500;
      ctx.type = 'text';
      ctx.body = `Upstream IdP interaction failed: ${why}`;
    }
  });

  handler = provider.callback();

  let stopped = false;
  return {
    issuer,
    clients,
    setUser(next) {
      // A different person: end the sessions of the previous one, so the next sign-in is theirs.
      if (next.sub !== current.sub) storage.endSessions();
      current = { ...next };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
