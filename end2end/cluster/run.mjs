// `make cluster`: three server processes over the database of DATABASE_URL behind HAProxy on
// http://localhost:3000 (the nodes on 3001-3003), with a first administrator, until Ctrl-C.
import { startCluster } from './cluster.mjs';

const admin = process.env.ADMIN_EMAIL || 'admin@example.com';
const cluster = await startCluster({ databaseUrl: process.env.DATABASE_URL, port: 3000, firstNodePort: 3001 });
process.stdout.write(await cluster.cli(['admin', 'bootstrap', '--email', admin]));
console.log(`serving ${cluster.baseURL} through HAProxy (round robin, no sticky sessions):`);
for (const node of cluster.nodes) console.log(`  node ${node.name}: ${node.url} (pid ${node.pid})`);
console.log('Ctrl-C stops every node and the balancer.');

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await cluster.stop();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// A node that dies is reported; the balancer sends its requests to the others meanwhile.
for (const node of cluster.nodes) {
  node.exited.then((how) => {
    if (!stopping) console.error(`node ${node.name} exited (${JSON.stringify(how)}):\n${node.log().slice(-2000)}`);
  });
}
