import { z } from 'zod';
import { Role } from '../shared/schemas.js';

export const Email = z.string().trim().toLowerCase().pipe(z.email()).meta({ example: 'manager@example.com' });
export const Password = z.string().min(10, 'at least 10 characters').max(200);

export const CreateUserBody = z.object({
  email: Email,
  name: z.string().trim().min(1).max(100),
  role: Role,
  password: Password,
});

export const UpdateUserBody = z
  .object({
    role: Role.optional(),
    disabled: z.boolean().optional().meta({ description: 'true signs the user out everywhere and blocks sign-in' }),
    password: Password.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });

export const User = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: Role,
  disabled: z.boolean(),
  lastSignInAt: z.string().nullable(),
  createdAt: z.string(),
});
export type User = z.infer<typeof User>;

export const SignInBody = z.object({ email: Email, password: z.string().min(1).max(200) });

export const SessionView = z.object({
  user: User.nullable().meta({ description: 'null when the caller is an API key, not a signed-in user' }),
  principal: z.object({ name: z.string(), role: Role }),
  csrfToken: z.string().nullable().meta({ description: 'send back as X-CSRF-Token on every POST/PUT/PATCH/DELETE made with the session cookie' }),
});

export const Listen = z.object({ listener: z.string(), listenedAt: z.string() });
