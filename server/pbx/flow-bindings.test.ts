import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { SipRemote } from '../sip/sip-types.js';
import { dropBindingsWhenFlowsClose } from './flow-bindings.js';
import type { RegisterOutcome } from './registrar.js';

function setUp() {
  let closeFlow: (flow: SipRemote) => void = () => undefined;
  const dropped: string[] = [];
  const flows = dropBindingsWhenFlowsClose({
    stack: { onFlowClosed: (listener) => void (closeFlow = listener) },
    registrar: {
      dropIfFrom: async (extensionId, contact, source) => {
        dropped.push(`${extensionId} ${contact} ${source}`);
        return true;
      },
    },
    logger: pino({ level: 'silent' }),
  });
  return { flows, dropped, close: (flow: SipRemote) => closeFlow(flow) };
}

const browser: SipRemote = { protocol: 'WS', address: '127.0.0.9', port: 40001 };
const outcome = (bindings: Array<{ contact: string; source: string }>): RegisterOutcome => ({
  status: 200,
  registered: { extensionId: 'ext', bindings: bindings.map((b) => ({ ...b, target: 'sip:x', expiresAt: Date.now() + 60_000 })) },
});
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe(dropBindingsWhenFlowsClose.name, () => {
  it("drops the closed socket's bindings, not those of other phones of the extension", async () => {
    const { flows, dropped, close } = setUp();
    flows.track(
      outcome([
        { contact: 'sip:a@x.invalid;transport=ws', source: 'ws:127.0.0.9:40001' },
        { contact: 'sip:desk@127.0.0.8', source: 'udp:127.0.0.8:5060' },
      ]),
      browser,
    );
    close({ protocol: 'WS', address: '127.0.0.9', port: 40002 });
    await settle();
    expect(dropped).toEqual([]);
    close(browser);
    await settle();
    expect(dropped).toEqual(['ext sip:a@x.invalid;transport=ws ws:127.0.0.9:40001']);
  });

  it('drops at once what a REGISTER bound after its socket had already closed', async () => {
    const { flows, dropped, close } = setUp();
    close(browser);
    flows.track(outcome([{ contact: 'sip:a@x.invalid;transport=ws', source: 'ws:127.0.0.9:40001' }]), browser);
    await settle();
    expect(dropped).toEqual(['ext sip:a@x.invalid;transport=ws ws:127.0.0.9:40001']);
  });

  it('ignores REGISTERs over UDP and TCP', async () => {
    const { flows, dropped, close } = setUp();
    const udp = { protocol: 'UDP', address: '127.0.0.8', port: 5060 };
    flows.track(outcome([{ contact: 'sip:desk@127.0.0.8', source: 'udp:127.0.0.8:5060' }]), udp);
    close(udp);
    await settle();
    expect(dropped).toEqual([]);
  });
});
