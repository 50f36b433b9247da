// One B2BUA node as its own process, for the failover drill (test/cluster/failover.test.ts kills
// it with SIGKILL) and the crash-recovery test (which restarts it on the same schema and data
// directory). Own harness (schema and Redis prefix) unless one is named; provisions the parent's
// trunk and number on a fresh schema; prints {"sipPort":…} once it takes calls.
import { startCallServer } from '../helpers/call-server.js';
import { createHarness } from '../helpers/harness.js';

const [edgeIp, callerIp, agentTarget, number, schema, dataDir] = process.argv.slice(2);
if (!edgeIp || !callerIp || !agentTarget || !number) throw new Error('usage: node-child.ts <edge ip> <caller ip> <agent uri> <number> [schema data-dir]');
const h = await createHarness({}, schema ? { schema } : {});
const server = await startCallServer(h, {
  convertRecordings: dataDir !== undefined,
  sipTrustedEdges: [edgeIp],
  dialplans: { plain: { steps: [{ forward: { targets: [agentTarget], ringSeconds: 5 } }] } },
  ...(dataDir ? { dataDir } : {}),
});
const trunks = await server.app.inject({ method: 'GET', url: '/v1/trunks', headers: h.adminHeaders });
if (trunks.json().items.length === 0) {
  const trunk = await server.app.inject({
    method: 'POST',
    url: '/v1/trunks',
    headers: h.adminHeaders,
    payload: { name: 'carrier', addresses: [`${callerIp}/32`] },
  });
  await server.app.inject({ method: 'POST', url: '/v1/numbers', headers: h.adminHeaders, payload: { number, trunkId: trunk.json().id, dialplan: 'plain' } });
}
await server.routing.refresh();
process.stdout.write(`${JSON.stringify({ sipPort: server.sipPort })}\n`);
process.on('SIGTERM', () => {
  void server
    .stop()
    .then(() => h.close())
    .finally(() => process.exit(0));
});
