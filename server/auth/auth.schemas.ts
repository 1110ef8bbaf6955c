import { z } from 'zod';
import { Role } from '../domain/kinds';

export const LoginBody = z.object({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(200),
});
export type LoginBody = z.infer<typeof LoginBody>;

export const PublicUserSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: Role,
  institutionId: z.string().nullable(),
});

export const LoginResponse = z.object({
  token: z.string(),
  expiresAt: z.string().describe('ISO 8601, UTC'),
  user: PublicUserSchema,
});

export const TokenBody = z.object({
  clientId: z.string().min(1).max(128),
  clientSecret: z.string().min(1).max(256),
});
export type TokenBody = z.infer<typeof TokenBody>;

export const TokenResponse = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('seconds'),
});
