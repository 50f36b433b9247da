/** The HTTP server gives up on slow or idle clients instead of holding sockets forever. */
import { afterAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness | undefined;
afterAll(() => h?.close());

describe('HTTP timeouts', () => {
  it('request, idle-connection and keep-alive timeouts come from the configuration', async () => {
    h = await createHarness({ HTTP_REQUEST_TIMEOUT_MS: '12000', HTTP_CONNECTION_TIMEOUT_MS: '45000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '7000' });
    const app = await h.buildApp();
    expect(app.server.requestTimeout).toBe(12_000);
    expect(app.server.timeout).toBe(45_000);
    expect(app.server.keepAliveTimeout).toBe(7_000);
  });
});
