// Owns what the sign-in benchmarks share: posting a server function's form as the page does, and
// one verified account that signs in from one usual device.

/**
 * Posts `fields` to the server function `endpoint` of `server`, as the page's form does; from
 * address `ip` (as `X-Forwarded-For`, for a server that trusts 127.0.0.1) when one is given.
 */
export function caller(server, ip) {
  return (endpoint, fields, cookie = '') =>
    fetch(`${server.baseURL}/api/${endpoint}`, {
      method: 'POST',
      headers: {
        Accept: 'application/json',
        Origin: server.baseURL,
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: cookie,
        ...(ip ? { 'X-Forwarded-For': ip } : {}),
      },
      body: new URLSearchParams(fields),
      redirect: 'manual',
    });
}

/**
 * Registers `email` with `password` (the required terms accepted), marks the address proven and
 * signs in once: the device cookie that sign-in sets goes with every later one, so the risk
 * engine sees a usual device; from `ip` when given (see `caller`). Returns `{ call, device }`.
 */
export async function accountOnOneDevice(server, email, password, ip) {
  const call = caller(server, ip);
  const registered = await call('register', {
    email, display_name: 'Bench', password, 'consent[terms]': '1', 'consent[privacy]': '1',
  });
  if (registered.status !== 200) throw new Error(`register: ${registered.status} ${await registered.text()}`);
  await server.sql(`UPDATE users SET email_verified_at = now() WHERE email = '${email}'`);
  const first = await call('sign-in', { email, password });
  const device = first.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('device='));
  if (first.status !== 200 || !device) throw new Error(`first sign-in: ${first.status}`);
  return { call, device };
}
