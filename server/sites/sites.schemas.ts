import { z } from 'zod';
import { E164 } from '../shared/schemas.js';

/**
 * A bare host name: the snippet's requests are checked against these (subdomains included). The
 * site's address as people copy it from the browser (https://shop.example/) is taken for its host.
 */
export const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .transform((v) => (/^https?:\/\/[^/?#:]+\/?$/.exec(v) ? v.replace(/^https?:\/\//, '').replace(/\/$/, '') : v))
  .pipe(
    z
      .string()
      .regex(
        /^(?=.{1,253}$)(localhost|([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}|\d{1,3}(\.\d{1,3}){3})$/,
        'a host name such as shop.example (no path or port)',
      ),
  );

export const CreateSiteBody = z.object({
  name: z.string().trim().min(1).max(200),
  domains: z.array(Domain).min(1).max(50),
  defaultNumber: E164.meta({ description: 'The number printed on the site; the snippet swaps it for a tracking number' }),
  dialplan: z.string().optional(),
});

export const Site = z.object({
  id: z.uuid(),
  name: z.string(),
  domains: z.array(z.string()),
  defaultNumber: z.string(),
  siteKey: z.string(),
  dialplan: z.string().nullable(),
  createdAt: z.string(),
});
export type Site = z.infer<typeof Site>;
