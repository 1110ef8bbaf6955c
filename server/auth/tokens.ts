import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { Config } from '../config';
import { Role } from '../domain/kinds';
import type { Actor } from './actor';

export const TOKEN_TYPE = 'access';
export const ALGORITHMS: jwt.Algorithm[] = ['HS256'];

export const TokenClaims = z.object({
  sub: z.string(),
  typ: z.literal(TOKEN_TYPE),
  act: z.enum(['user', 'api_client']),
  name: z.string(),
  role: Role,
  inst: z.string().nullable(),
});

export function issueToken(config: Config, actor: Actor): { token: string; expiresAt: Date; expiresIn: number } {
  const expiresIn = config.jwt.ttlSeconds;
  const token = jwt.sign(
    { typ: TOKEN_TYPE, act: actor.type, name: actor.name, role: actor.role, inst: actor.institutionId },
    config.jwt.secret,
    { algorithm: 'HS256', subject: actor.id, issuer: config.jwt.issuer, audience: config.jwt.audience, expiresIn },
  );
  return { token, expiresAt: new Date(Date.now() + expiresIn * 1000), expiresIn };
}

export function claimsToActor(claims: z.infer<typeof TokenClaims>): Actor {
  return { id: claims.sub, type: claims.act, name: claims.name, role: claims.role, institutionId: claims.inst };
}
