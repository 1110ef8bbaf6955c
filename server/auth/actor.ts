import { z } from 'zod';
import { Role } from '../domain/kinds';

/** Who is acting: a person (user) or a partner's machine client (api_client). */
export const Actor = z.object({
  id: z.string(),
  type: z.enum(['user', 'api_client']),
  name: z.string(),
  role: Role,
  institutionId: z.string().nullable(),
});
export type Actor = z.infer<typeof Actor>;

/** The system itself, for events the workers and schedulers record. */
export const SYSTEM_ACTOR = { id: null, type: 'system', name: 'system' } as const;

export function isPartnerSide(actor: Pick<Actor, 'role'>): boolean {
  return actor.role === 'liaison' || actor.role === 'partner_system';
}

/** The institution a partner-side actor is confined to; undefined for center staff who see everything. */
export function scopeOf(actor: Pick<Actor, 'role' | 'institutionId'>): string | undefined {
  return isPartnerSide(actor) ? (actor.institutionId ?? '__none__') : undefined;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // passport puts the authenticated Actor on req.user.
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends Actor {}
  }
}
