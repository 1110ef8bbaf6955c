import { createSecretKey, type KeyObject } from 'node:crypto';
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
  /** The user's token generation when the token was issued (0 for machine clients, ended by revocation). */
  gen: z.number().int().min(0),
});

const keys = new WeakMap<Config, KeyObject>();

/**
 * The HS256 key as a KeyObject, made once per config: given the secret as a string, jsonwebtoken
 * would build a new key object for every token it signs or checks.
 */
export function signingKey(config: Config): KeyObject {
  let key = keys.get(config);
  if (!key) {
    key = createSecretKey(Buffer.from(config.jwt.secret, 'utf8'));
    keys.set(config, key);
  }
  return key;
}

export function issueToken(config: Config, actor: Actor, generation = 0): { token: string; expiresAt: Date; expiresIn: number } {
  const expiresIn = config.jwt.ttlSeconds;
  const token = jwt.sign(
    { typ: TOKEN_TYPE, act: actor.type, name: actor.name, role: actor.role, inst: actor.institutionId, gen: generation },
    signingKey(config),
    { algorithm: 'HS256', subject: actor.id, issuer: config.jwt.issuer, audience: config.jwt.audience, expiresIn },
  );
  return { token, expiresAt: new Date(Date.now() + expiresIn * 1000), expiresIn };
}

export function claimsToActor(claims: z.infer<typeof TokenClaims>): Actor {
  return { id: claims.sub, type: claims.act, name: claims.name, role: claims.role, institutionId: claims.inst };
}

/** Who a token speaks for, and the generation it was issued in. */
export type TokenHolder = { actor: Actor; generation: number };
