// Owns the reference peer of the side-by-side benchmark (see compare.mjs): npm oidc-provider (v8,
// one Node process) configured like this server — 9 signing keys (3 RS256, 3 ES256, 3 EdDSA), a
// confidential web client and a client_credentials service client, the same token lifetimes,
// claims and rotation policy — plus pools of single-use authorization codes and refresh tokens
// minted straight through the provider's models before it listens. It stores in its memory, or
// with --database-url in that Postgres database (oidc-postgres.mjs; the pools bulk-loaded). The
// web client's ID tokens are RS256 unless --id-token-alg says otherwise. It writes:
//
//   <pool-dir>/codes.txt     one authorization code per line (scope openid email profile)
//   <pool-dir>/refresh.txt   one refresh token per line (scope openid email profile offline_access)
//   <pool-dir>/setup.json    endpoints, client credentials and one access token for userinfo and
//                            introspection
//
// then prints exactly one line, `ready`, on stdout. Everything else it (or oidc-provider) logs goes
// to stderr. SIGTERM or SIGINT stop it.
//
//   node end2end/bench/oidc-provider.mjs --port 4100 --pool-dir /tmp/x --count 20000
//     [--redirect-uri URI]     (default http://localhost:<port>/cb; codes are bound to it)
//     [--database-url URL]     (store in this Postgres database instead of memory)
//     [--id-token-alg ALG]     (the web client's ID token algorithm: RS256, ES256 or EdDSA)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { postgresStorage } from './oidc-postgres.mjs';

// oidc-provider prints its "you SHOULD change …" notices with console.info, i.e. on stdout, which
// must carry nothing but `ready`. Route console.log/info to stderr before the library loads.
console.log = console.error; // eslint-disable-line no-console
console.info = console.error; // eslint-disable-line no-console

const { default: Provider, errors } = await import('oidc-provider');

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'pool-dir': { type: 'string' },
    count: { type: 'string', default: '1000' },
    'redirect-uri': { type: 'string' },
    'database-url': { type: 'string' },
    'id-token-alg': { type: 'string', default: 'RS256' },
  },
});

const PORT = Number(args.port);
const COUNT = Number(args.count);
const ID_TOKEN_ALG = args['id-token-alg'];
if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535 || !args['pool-dir'] || !Number.isInteger(COUNT) || COUNT < 0
  || !['RS256', 'ES256', 'EdDSA'].includes(ID_TOKEN_ALG)) {
  process.stderr.write('usage: node oidc-provider.mjs --port N --pool-dir DIR [--count N] [--redirect-uri URI] [--database-url URL] [--id-token-alg RS256|ES256|EdDSA]\n');
  process.exit(2);
}
const POOL_DIR = args['pool-dir'];

const ISSUER = `http://localhost:${PORT}`;
const REDIRECT_URI = args['redirect-uri'] || `${ISSUER}/cb`;
const RESOURCE = 'https://api.bench.example';
const ACCOUNT = {
  sub: 'bench-user', email: 'bench@example.com', email_verified: true, name: 'Bench User',
};
const SID = 'bench-sid';

const WEB = { client_id: 'bench-web', client_secret: randomBytes(32).toString('base64url') };
const SERVICE = { client_id: 'bench-service', client_secret: randomBytes(32).toString('base64url') };

// ---------------------------------------------------------------------------------------------
// Keys: 3 × RSA-2048 (RS256), 3 × EC P-256 (ES256), 3 × Ed25519 (EdDSA), as private JWKs.
// ID tokens sign with the first key of the web client's algorithm.
// ---------------------------------------------------------------------------------------------

function jwk(type, options, alg, kid) {
  const { privateKey } = generateKeyPairSync(type, options);
  return {
    ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig',
  };
}

const keys = [];
for (let i = 1; i <= 3; i += 1) keys.push(jwk('rsa', { modulusLength: 2048 }, 'RS256', `bench-rs256-${i}`));
for (let i = 1; i <= 3; i += 1) keys.push(jwk('ec', { namedCurve: 'P-256' }, 'ES256', `bench-es256-${i}`));
for (let i = 1; i <= 3; i += 1) keys.push(jwk('ed25519', undefined, 'EdDSA', `bench-eddsa-${i}`));

// ---------------------------------------------------------------------------------------------
// Storage in memory: oidc-provider's bundled MemoryAdapter is an LRU capped at 1000 entries,
// which would evict almost all of a pre-minted pool. This is the same thing over an unbounded
// Map, with expiry checked on read and swept every 10 s.
// ---------------------------------------------------------------------------------------------

const store = new Map(); // "Model:id" -> { value, expiresAt (ms) }
const grantIndex = new Map(); // grantId -> ["Model:id", …] of tokens issued under that grant
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

function read(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
}

function write(key, value, expiresIn) {
  store.set(key, { value, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
}

class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session') write(`sessionUid:${payload.uid}`, id, expiresIn);
    if (payload.userCode) write(`userCode:${payload.userCode}`, id, expiresIn);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const tokens = grantIndex.get(payload.grantId);
      if (tokens) tokens.push(key);
      else grantIndex.set(payload.grantId, [key]);
    }
    write(key, payload, expiresIn);
  }

  async find(id) {
    return read(this.key(id));
  }

  async findByUid(uid) {
    const id = read(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = read(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = read(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  // eslint-disable-next-line class-methods-use-this
  async revokeByGrantId(grantId) {
    for (const key of grantIndex.get(grantId) ?? []) store.delete(key);
    grantIndex.delete(grantId);
  }
}

setInterval(() => {
  const now = Date.now();
  for (const [key, { expiresAt }] of store) if (expiresAt <= now) store.delete(key);
  for (const [grantId, tokens] of grantIndex) {
    const live = tokens.filter((key) => store.has(key));
    if (live.length) grantIndex.set(grantId, live);
    else grantIndex.delete(grantId);
  }
}, 10_000).unref();

// With --database-url, Postgres instead (20 connections, as this server's pool).
const storage = args['database-url'] ? await postgresStorage(args['database-url'], { max: 20 }) : null;

// ---------------------------------------------------------------------------------------------
// Provider
// ---------------------------------------------------------------------------------------------

const DAY = 24 * 60 * 60;

const provider = new Provider(ISSUER, {
  adapter: storage ? storage.Adapter : MapAdapter,
  jwks: { keys },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  clients: [
    {
      ...WEB,
      client_name: 'Bench web',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
      scope: 'openid email profile offline_access',
      // Like this server, ID tokens always carry auth_time.
      require_auth_time: true,
      id_token_signed_response_alg: ID_TOKEN_ALG,
    },
    {
      // No `scope` metadata: oidc-provider only accepts OIDC (static) scope values there, and
      // orders.read belongs to the resource server below, whose scope list is what limits it.
      ...SERVICE,
      client_name: 'Bench service',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  claims: {
    acr: null,
    sid: null,
    auth_time: null,
    iss: null,
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // What this server implements: the code flow only, and these client authentication methods.
  responseTypes: ['code'],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
  // This server puts the scope's claims (email, name) in ID tokens too, not only in userinfo.
  conformIdTokenClaims: false,
  async findAccount(ctx, sub) {
    if (sub !== ACCOUNT.sub) return undefined;
    return {
      accountId: ACCOUNT.sub,
      async claims() {
        return { ...ACCOUNT };
      },
    };
  },
  features: {
    devInteractions: { enabled: false },
    introspection: {
      enabled: true,
      // The default policy is this one plus a stdout notice.
      allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
    },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Only the service client's client_credentials requests get a resource (hence a JWT access
      // token); code and refresh exchanges carry none, so their access tokens stay opaque and
      // userinfo and introspection accept them.
      async defaultResource(ctx, client, oneOf) {
        if (oneOf) return oneOf;
        if (client?.clientId === SERVICE.client_id && ctx.oidc.params?.grant_type === 'client_credentials') return RESOURCE;
        return undefined;
      },
      async getResourceServerInfo(ctx, resource, client) {
        if (resource !== RESOURCE || client?.clientId !== SERVICE.client_id) throw new errors.InvalidTarget();
        return {
          scope: 'orders.read',
          audience: RESOURCE,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
      useGrantedResource: async () => true,
    },
  },
  pkce: { required: () => false },
  rotateRefreshToken: true,
  clientBasedCORS: () => false,
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 30 * DAY,
    ClientCredentials: 600,
    Grant: 30 * DAY,
    Session: 14 * DAY,
    Interaction: 3600,
  },
});

// Requests that fail with a 4xx are answered and not logged; 5xx (server_error) go to stderr.
provider.on('server_error', (ctx, err) => process.stderr.write(`oidc-provider server_error: ${err?.stack ?? err}\n`));

// ---------------------------------------------------------------------------------------------
// Minting
// ---------------------------------------------------------------------------------------------

const web = await provider.Client.find(WEB.client_id);
if (!web) throw new Error('the bench web client did not load');

/** A fresh grant of `scope` for the bench account and web client; resolves to its id. */
function newGrant(scope) {
  const grant = new provider.Grant({ accountId: ACCOUNT.sub, clientId: WEB.client_id });
  grant.addOIDCScope(scope);
  return grant.save();
}

const authTime = Math.floor(Date.now() / 1000);
const common = {
  accountId: ACCOUNT.sub,
  client: web,
  authTime,
  // What the authorization endpoint records for a require_auth_time client; it is what puts
  // auth_time in the ID tokens of the code and refresh exchanges.
  claims: { id_token: { auth_time: { essential: true } } },
  sid: SID,
  expiresWithSession: false,
};

async function mintCode(i) {
  const scope = 'openid email profile';
  const grantId = await newGrant(scope);
  return new provider.AuthorizationCode({
    ...common, grantId, scope, redirectUri: REDIRECT_URI, nonce: `n-${i}`,
  }).save();
}

async function mintRefresh() {
  const scope = 'openid email profile offline_access';
  const grantId = await newGrant(scope);
  return new provider.RefreshToken({
    ...common, grantId, scope, gty: 'authorization_code', rotations: 0,
  }).save();
}

/**
 * `count` results of `mint(i)`, run in batches (each save is a little async work); in Postgres,
 * their rows are gathered and written in bulk.
 */
async function pool(count, mint) {
  storage?.defer();
  const out = new Array(count);
  const BATCH = 2000;
  for (let start = 0; start < count; start += BATCH) {
    const end = Math.min(count, start + BATCH);
    const batch = [];
    for (let i = start; i < end; i += 1) batch.push(mint(i));
    const values = await Promise.all(batch);
    for (let i = start; i < end; i += 1) out[i] = values[i - start];
  }
  await storage?.flush();
  return out;
}

const mintStart = process.hrtime.bigint();
// Codes last: they live 60 s, so their clock starts as late as possible.
const refresh = await pool(COUNT, mintRefresh);
const codes = await pool(COUNT, mintCode);
const accessToken = await (async () => {
  const scope = 'openid email profile';
  const grantId = await newGrant(scope);
  return new provider.AccessToken({
    accountId: ACCOUNT.sub,
    client: web,
    claims: common.claims,
    grantId,
    gty: 'authorization_code',
    scope,
    sid: SID,
    expiresWithSession: false,
    expiresIn: 3600,
  }).save();
})();
const mintMs = Number(process.hrtime.bigint() - mintStart) / 1e6;
process.stderr.write(`oidc-provider bench: minted ${COUNT} codes and ${COUNT} refresh tokens ${storage ? 'into Postgres' : 'in memory'} in ${mintMs.toFixed(0)} ms\n`);

await mkdir(POOL_DIR, { recursive: true });
await writeFile(join(POOL_DIR, 'codes.txt'), codes.length ? `${codes.join('\n')}\n` : '');
await writeFile(join(POOL_DIR, 'refresh.txt'), refresh.length ? `${refresh.join('\n')}\n` : '');

const routes = (name) => provider.urlFor(name);
await writeFile(join(POOL_DIR, 'setup.json'), `${JSON.stringify({
  issuer: ISSUER,
  token_endpoint: routes('token'),
  userinfo_endpoint: routes('userinfo'),
  introspection_endpoint: routes('introspection'),
  jwks_uri: routes('jwks'),
  discovery: `${ISSUER}/.well-known/openid-configuration`,
  redirect_uri: REDIRECT_URI,
  confidential: { ...WEB },
  service: { ...SERVICE, scope: 'orders.read' },
  access_token: accessToken,
}, null, 2)}\n`);

// ---------------------------------------------------------------------------------------------
// Serve
// ---------------------------------------------------------------------------------------------

const server = provider.listen(PORT, '127.0.0.1');
server.once('error', (err) => {
  process.stderr.write(`oidc-provider bench: ${err.message}\n`);
  process.exit(1);
});
server.once('listening', () => process.stdout.write('ready\n'));

function stop() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
