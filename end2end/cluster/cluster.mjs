// Owns a cluster under test: one database, several `server serve` processes over it, and HAProxy
// in front of them (round robin, no sticky sessions), with their teardown.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createDatabase, spawnServer, freePort, commandsFor, siteRoot } from '../support/server.mjs';

const haproxyBin = process.env.HAPROXY_BIN || '/usr/sbin/haproxy';

/** HAProxy's configuration: every request goes to the next node that answers `/readyz`. */
function haproxyConfig(port, nodes) {
  return `global
  maxconn 2048

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  option forwardfor

frontend web
  bind 127.0.0.1:${port}
  default_backend nodes
  # The balancer's own 503 (no node ready) says when to come back, as the nodes' own do.
  http-after-response set-header Retry-After 1 if { status 503 } !{ res.hdr(Retry-After) -m found }

backend nodes
  balance roundrobin
  option httpchk GET /readyz
  # A node that refuses the connection (killed, not yet marked down) never saw the request, so
  # it is safe to send it to another one; a request a node had already taken is never resent.
  retry-on conn-failure
  option redispatch 1
  http-response set-header X-Served-By %s
${nodes.map((n) => `  server ${n.name} 127.0.0.1:${n.port} check inter 500ms fall 2 rise 2`).join('\n')}
`;
}

/**
 * Starts `size` nodes over one new database behind HAProxy on a free port. Every node serves the
 * balancer's address as its public URL and believes the balancer's forwarding headers.
 * `env` is merged into every node's environment, `nodeEnv[name]` into one's. By default a new database and free ports;
 * `databaseUrl`, `port` (the balancer's) and `firstNodePort` (then the next ones) choose.
 * @returns {Promise<{baseURL: string, nodes: object[], node: (name: string) => object, restart: (name: string) => Promise<object>,
 *   cli: Function, sql: Function, log: () => string, stop: () => Promise<void>}>}
 */
export async function startCluster({ size = 3, env: extraEnv = {}, nodeEnv = {}, databaseUrl, port: chosenPort, firstNodePort } = {}) {
  const db = databaseUrl ? null : await createDatabase();
  const cwd = await mkdtemp(join(tmpdir(), 'ciam-cluster-'));
  const port = chosenPort ?? (await freePort());
  const baseURL = `http://localhost:${port}`;
  const shared = {
    DATABASE_URL: databaseUrl || db.databaseUrl,
    CIAM_PUBLIC_URL: baseURL,
    CIAM_TRUSTED_PROXIES: '127.0.0.1',
    LEPTOS_SITE_ROOT: siteRoot,
    ...extraEnv,
  };
  const { cli, sql } = commandsFor(shared, cwd);
  let balancer = null;
  const onExit = () => {
    balancer?.kill('SIGKILL');
    db?.dropNow();
    rmSync(cwd, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const names = ['a', 'b', 'c', 'd', 'e'].slice(0, size);
  const slots = [];
  for (const [i, name] of names.entries()) slots.push({ name, port: firstNodePort ? firstNodePort + i : await freePort() });
  const nodes = [];

  async function launch(slot) {
    const env = { ...shared, ...nodeEnv[slot.name], CIAM_LISTEN: `127.0.0.1:${slot.port}` };
    const process_ = await spawnServer({ port: slot.port, env, cwd, name: `node ${slot.name}` });
    return { ...slot, ...process_ };
  }

  async function stop() {
    process.off('exit', onExit);
    if (balancer && balancer.exitCode === null) {
      const gone = new Promise((r) => balancer.once('exit', r));
      balancer.kill('SIGTERM');
      await gone;
    }
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop();
    await rm(cwd, { recursive: true, force: true });
  }

  try {
    // One node migrates first, so the others start on a ready schema.
    await cli(['migrate']);
    for (const slot of slots) nodes.push(await launch(slot));
    const config = join(cwd, 'haproxy.cfg');
    await writeFile(config, haproxyConfig(port, slots));
    let balancerLog = '';
    balancer = spawn(haproxyBin, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    balancer.stdout.on('data', (d) => (balancerLog += d));
    balancer.stderr.on('data', (d) => (balancerLog += d));
    await untilAllServe(baseURL, names, () => balancerLog);
  } catch (e) {
    await stop();
    throw e;
  }

  const node = (name) => nodes.find((n) => n.name === name);
  /** Starts a stopped or killed node again on its port. */
  async function restart(name) {
    const index = nodes.findIndex((n) => n.name === name);
    nodes[index] = await launch(slots[index]);
    return nodes[index];
  }
  const log = () => nodes.map((n) => `--- node ${n.name}\n${n.log()}`).join('\n');
  return { baseURL, nodes, node, restart, cli, sql, log, stop };
}

/** Waits until the balancer has sent a request to every node. */
async function untilAllServe(baseURL, names, balancerLog) {
  const seen = new Set();
  const deadline = Date.now() + 20_000;
  while (seen.size < names.length) {
    if (Date.now() > deadline) {
      throw new Error(`the balancer reached only ${[...seen].join(', ') || 'no node'}:\n${balancerLog()}`);
    }
    try {
      const res = await fetch(`${baseURL}/readyz`);
      await res.arrayBuffer();
      const by = res.headers.get('x-served-by');
      if (res.status === 200 && by) seen.add(by);
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
