// One B2BUA node as its own process, for the failover drill (test/cluster/failover.test.ts kills
// it with SIGKILL). Own harness (schema and Redis prefix), same trunk and number as the parent;
// prints {"sipPort":…} once it takes calls.
import { startCallServer } from '../helpers/call-server.js';
import { createHarness } from '../helpers/harness.js';

const [edgeIp, callerIp, agentTarget, number] = process.argv.slice(2);
if (!edgeIp || !callerIp || !agentTarget || !number) throw new Error('usage: node-child.ts <edge ip> <caller ip> <agent uri> <number>');
const h = await createHarness();
const server = await startCallServer(h, {
  convertRecordings: false,
  sipTrustedEdges: [edgeIp],
  dialplans: { plain: { steps: [{ forward: { targets: [agentTarget], ringSeconds: 5 } }] } },
});
const trunk = await server.app.inject({
  method: 'POST',
  url: '/v1/trunks',
  headers: h.adminHeaders,
  payload: { name: 'carrier', addresses: [`${callerIp}/32`] },
});
await server.app.inject({ method: 'POST', url: '/v1/numbers', headers: h.adminHeaders, payload: { number, trunkId: trunk.json().id, dialplan: 'plain' } });
await server.routing.refresh();
process.stdout.write(`${JSON.stringify({ sipPort: server.sipPort })}\n`);
process.on('SIGTERM', () => {
  void server
    .stop()
    .then(() => h.close())
    .finally(() => process.exit(0));
});
