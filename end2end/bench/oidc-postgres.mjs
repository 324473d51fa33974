// Owns the Postgres storage of the benchmark's oidc-provider peer (see oidc-provider.mjs): one
// table, oidc_payloads, in the database it is given; an adapter class per oidc-provider 8's
// adapter interface (upsert, find, findByUid, findByUserCode, consume, destroy, revokeByGrantId)
// over a connection pool, each write its own commit at the server's default durability
// (synchronous_commit untouched); and a deferred mode that gathers upserts in memory and writes
// them as bulk inserts, for the pools minted before the peer listens.
import pg from 'pg';

/** The models whose rows name a grant, and go when that grant is revoked. */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** Rows per bulk insert statement. */
const BULK_ROWS = 5000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS oidc_payloads (
  model text NOT NULL,
  id text NOT NULL,
  payload jsonb NOT NULL,
  grant_id text,
  user_code text,
  uid text,
  expires_at timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX IF NOT EXISTS oidc_payloads_grant_id ON oidc_payloads (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_payloads_uid ON oidc_payloads (uid) WHERE uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_payloads_user_code ON oidc_payloads (user_code) WHERE user_code IS NOT NULL;
`;

const COLUMNS = 'model, id, payload, grant_id, user_code, uid, expires_at';
const ON_CONFLICT = `ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
  user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at, consumed_at = NULL`;
const LIVE = '(expires_at IS NULL OR expires_at > now())';

// Named statements: each connection prepares them once, as this server's driver does.
const STATEMENTS = {
  upsert: `INSERT INTO oidc_payloads (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ${ON_CONFLICT}`,
  bulk: `INSERT INTO oidc_payloads (${COLUMNS})
    SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) ${ON_CONFLICT}`,
  find: `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND id = $2 AND ${LIVE}`,
  findByUid: `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND uid = $2 AND ${LIVE}`,
  findByUserCode: `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND user_code = $2 AND ${LIVE}`,
  consume: 'UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2',
  destroy: 'DELETE FROM oidc_payloads WHERE model = $1 AND id = $2',
  revokeByGrantId: 'DELETE FROM oidc_payloads WHERE grant_id = $1',
};

/** The stored row of `model` `id` with `payload`, living `expiresIn` seconds, as column values. */
function row(model, id, payload, expiresIn) {
  return [
    model,
    id,
    JSON.stringify(payload),
    GRANTABLE.has(model) ? payload.grantId ?? null : null,
    payload.userCode ?? null,
    model === 'Session' ? payload.uid ?? null : null,
    expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
  ];
}

/** The payload a found row gives back, with `consumed` (epoch seconds) once it was consumed. */
function found(result) {
  const [first] = result.rows;
  if (!first) return undefined;
  if (!first.consumed_at) return first.payload;
  return { ...first.payload, consumed: Math.floor(first.consumed_at.getTime() / 1000) };
}

/**
 * Connects a pool of `max` connections to `databaseUrl` and creates the table. Returns the
 * adapter class for oidc-provider's `adapter` option, `defer()` (upserts are gathered from now
 * on), `flush()` (writes what was gathered in bulk and stops deferring) and `close()`.
 */
export async function postgresStorage(databaseUrl, { max = 20 } = {}) {
  // Idle connections stay open (as this server's do for minutes), so the backends the harness
  // counts after a warm-up are the ones the measured run uses.
  const pool = new pg.Pool({ connectionString: databaseUrl, max, idleTimeoutMillis: 0 });
  pool.on('error', (err) => process.stderr.write(`oidc-postgres: idle connection failed: ${err.message}\n`));
  await pool.query(SCHEMA);
  let deferred = null;

  /** Runs the named statement `name` with `values`. */
  const run = (name, values) => pool.query({ name: `oidc-${name}`, text: STATEMENTS[name], values });

  /** One oidc-provider model's storage in oidc_payloads. */
  class PostgresAdapter {
    constructor(model) {
      this.model = model;
    }

    /** Stores (or replaces) `payload` under `id` for `expiresIn` seconds. */
    async upsert(id, payload, expiresIn) {
      const values = row(this.model, id, payload, expiresIn);
      if (deferred) deferred.push(values);
      else await run('upsert', values);
    }

    /** The live payload stored under `id`, if any. */
    async find(id) {
      return found(await run('find', [this.model, id]));
    }

    /** The live session whose uid is `uid`, if any. */
    async findByUid(uid) {
      return found(await run('findByUid', [this.model, uid]));
    }

    /** The live device code whose user code is `userCode`, if any. */
    async findByUserCode(userCode) {
      return found(await run('findByUserCode', [this.model, userCode]));
    }

    /** Marks the payload under `id` used. */
    async consume(id) {
      await run('consume', [this.model, id]);
    }

    /** Removes the payload under `id`. */
    async destroy(id) {
      await run('destroy', [this.model, id]);
    }

    /** Removes every token issued under the grant `grantId`. */
    // eslint-disable-next-line class-methods-use-this
    async revokeByGrantId(grantId) {
      await run('revokeByGrantId', [grantId]);
    }
  }

  /** Writes `rows` with one multi-row insert per BULK_ROWS of them. */
  async function bulkInsert(rows) {
    for (let start = 0; start < rows.length; start += BULK_ROWS) {
      const chunk = rows.slice(start, start + BULK_ROWS);
      const columns = chunk[0].map((_, c) => chunk.map((r) => r[c]));
      await run('bulk', columns);
    }
  }

  return {
    Adapter: PostgresAdapter,
    /** Gathers upserts in memory from now until flush(). */
    defer() {
      deferred ??= [];
    },
    /** Writes the gathered upserts in bulk and goes back to writing each at once. */
    async flush() {
      const rows = deferred ?? [];
      deferred = null;
      await bulkInsert(rows);
    },
    close: () => pool.end(),
  };
}
