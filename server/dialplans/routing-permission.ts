import type { FastifyRequest } from 'fastify';
import { AppError, ErrorCode } from '../errors.js';
import { principalOf } from '../http/auth.js';

/**
 * Which dialplan answers a number is call routing, an admin's decision, even inside requests that are
 * otherwise open to marketers (creating a site or a source): a marketer could otherwise send every
 * call of a campaign to any target. Sending no dialplan (or null) is always allowed.
 */
export function assertMayRoute(request: FastifyRequest, dialplan: string | null | undefined): void {
  if (dialplan === undefined || dialplan === null) return;
  if (principalOf(request).role !== 'admin') {
    throw new AppError(ErrorCode.forbidden, 'binding a dialplan changes call routing and needs the admin role; leave out "dialplan"', 403, 403);
  }
}
