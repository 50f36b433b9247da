import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERRORS } from '../errors.js';
import { principalOf } from '../http/auth.js';
import type { LiveBoard } from './live-board.js';

const HEARTBEAT_MS = 15_000;

/**
 * GET /v1/live: Server-Sent Events. A `snapshot` event on connect and after every change (live
 * calls, callers waiting per queue with their wait, agents by state, today's answered / abandoned /
 * service level), and a comment line every 15 s so proxies keep the stream open.
 */
export function liveRoutes({ board }: { board: LiveBoard }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/live',
      {
        schema: { tags: ['pbx'], summary: 'Live wallboard as Server-Sent Events (event: snapshot)', produces: ['text/event-stream'] },
        config: { roles: ['admin', 'manager'] },
      },
      async (request, reply) => {
        const accountId = principalOf(request).accountId;
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        let closed = false;
        let sending = false;
        let again = false;
        const send = async () => {
          if (closed) return;
          if (sending) {
            again = true;
            return;
          }
          sending = true;
          try {
            const snapshot = await board.snapshot(accountId);
            if (!closed) res.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
          } catch (err) {
            request.log.warn({ err, type: 'live_snapshot_failed' }, 'live snapshot failed');
          } finally {
            sending = false;
          }
          if (again) {
            again = false;
            void send();
          }
        };
        const unsubscribe = board.subscribe(accountId, () => void send());
        const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
        // Waiting times grow by themselves: a fresh snapshot each few seconds while anyone waits.
        const ticker = setInterval(() => void send(), 5_000);
        const stop = () => {
          closed = true;
          unsubscribe();
          clearInterval(heartbeat);
          clearInterval(ticker);
        };
        request.raw.on('close', stop);
        res.on('error', stop);
        await send();
      },
    );

    // The softphone's screen pop: the call ringing the agent's browser names itself in an
    // X-CallTrack-Call-Id header; every signed-in role may look it up (agents are often viewers).
    app.get(
      '/v1/live/calls/:callId',
      {
        schema: { tags: ['pbx'], summary: 'One live call as the wallboard knows it (the screen pop)', params: z.object({ callId: z.uuid() }) },
        config: { roles: ['admin', 'manager', 'marketer', 'viewer'] },
      },
      async (request) => {
        const snapshot = await board.snapshot(principalOf(request).accountId);
        const call = snapshot.calls.find((c) => c.callId === request.params.callId);
        if (!call) throw ERRORS.notFound('live call', request.params.callId);
        return call;
      },
    );
  };
}
