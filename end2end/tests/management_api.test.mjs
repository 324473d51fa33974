// The management API as a partner's back end meets it: the OpenAPI document the server serves
// passes a third-party validator (@seriousme/openapi-schema-validator, against the official
// OpenAPI 3.1 schema, with every $ref resolved); and a service app registered with the command
// line gets a token of the client_credentials grant and uses the operations the document
// describes, the answers matching the document's schemas' required members.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';

import { server } from '../support/journey.mjs';

/** Reads `name: value` from the command's output. */
function field(output, name) {
  const line = output.split('\n').find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `no ${name} in:\n${output}`);
  return line.slice(name.length + 1).trim();
}

describe('management API', () => {
  test('its OpenAPI document is valid OpenAPI 3.1 with every reference resolved', async () => {
    const res = await fetch(`${server.baseURL}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    const doc = await res.json();
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.deepEqual(result.errors, undefined, JSON.stringify(result.errors, null, 2));
    assert.equal(result.valid, true);
    assert.equal(validator.version, '3.1');
    // Every $ref names a schema that is there.
    const resolved = validator.resolveRefs();
    assert.ok(resolved.paths['/api/v1/people/{id}'].get);
    assert.ok(Object.keys(doc.paths).length >= 15);
  });

  test('a service app uses it as documented', async () => {
    const created = await server.cli([
      'client', 'create', '--name', 'CRM sync', '--service',
      '--scope', 'users:read', '--scope', 'users:write',
    ]);
    const clientId = field(created, 'client_id');
    const secret = field(created, 'client_secret').split('\n')[0].trim();
    const tokenRes = await fetch(`${server.baseURL}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    assert.equal(tokenRes.status, 200);
    const { access_token: token } = await tokenRes.json();
    const doc = await (await fetch(`${server.baseURL}/api/v1/openapi.json`)).json();
    const required = (name) => doc.components.schemas[name].required ?? [];
    const call = (method, path, body, headers = {}) => fetch(`${server.baseURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: body && JSON.stringify(body),
    });

    const email = `crm-${Date.now()}@example.com`;
    const made = await call('POST', '/api/v1/people', { email, display_name: 'Casey' }, { 'idempotency-key': `k-${email}` });
    assert.equal(made.status, 201);
    const person = await made.json();
    for (const member of required('PersonDoc')) assert.ok(member in person, `${member} missing`);
    const tag = made.headers.get('etag');
    assert.match(made.headers.get('ratelimit'), /^"per-app";r=\d+;t=\d+$/);

    const changed = await call('PATCH', `/api/v1/people/${person.id}`, { display_name: 'Casey Jones' }, { 'if-match': tag });
    assert.equal(changed.status, 200);
    const stale = await call('PATCH', `/api/v1/people/${person.id}`, { display_name: 'Casey J' }, { 'if-match': tag });
    assert.equal(stale.status, 412);
    assert.equal(stale.headers.get('content-type'), 'application/problem+json');
    const problem = await stale.json();
    for (const member of required('Problem')) assert.ok(member in problem, `${member} missing`);

    const found = await (await call('GET', `/api/v1/people?q=${encodeURIComponent(email)}`)).json();
    assert.deepEqual(found.items.map((p) => p.display_name), ['Casey Jones']);
    assert.equal((await call('DELETE', `/api/v1/people/${person.id}`)).status, 204);
  });

  test('its page is browsable', async () => {
    const res = await fetch(`${server.baseURL}/api/v1/docs`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /PATCH \/api\/v1\/people\/\{id\}/);
  });
});
