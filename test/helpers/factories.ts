import { randomBytes } from 'node:crypto';
import type { Db } from '../../server/db';
import type { IndicatorKind, InstitutionKind, Integration, MessageFormat, Role } from '../../server/domain/kinds';
import { hashSecret } from '../../server/auth/passwords';

export type TestUser = { id: string; username: string; password: string; role: Role; institutionId: string | null };
export type TestInstitution = { id: string; name: string; kind: InstitutionKind; integration: Integration };

const uniq = () => randomBytes(4).toString('hex');

// One hash for every factory user: scrypt is deliberately slow and tests create many users.
let sharedHash: Promise<string> | undefined;
export const FACTORY_PASSWORD = 'correct-horse-battery-staple';

export function createFactories(db: Db) {
  return {
    async institution(opts: {
      id?: string; name?: string; kind?: InstitutionKind; integration?: Integration;
      webhookUrl?: string; webhookSecret?: string; active?: boolean; messageFormat?: MessageFormat;
      routes?: { indicatorKind: IndicatorKind; prefix: string }[];
    } = {}): Promise<TestInstitution> {
      const id = opts.id ?? `inst-${uniq()}`;
      const row = {
        id,
        name: opts.name ?? `Institution ${id}`,
        kind: opts.kind ?? 'bank',
        integration: opts.integration ?? 'manual',
        webhook_url: opts.webhookUrl ?? null,
        webhook_secret: opts.webhookSecret ?? null,
        message_format: opts.messageFormat ?? 'json',
        active: opts.active ?? true,
      };
      await db('institutions').insert(row);
      if (opts.routes?.length) {
        await db('institution_routes').insert(opts.routes.map((r) => ({ institution_id: id, indicator_kind: r.indicatorKind, prefix: r.prefix })));
      }
      return { id, name: row.name, kind: row.kind, integration: row.integration };
    },

    async user(opts: { role: Role; institutionId?: string | null; username?: string; password?: string; displayName?: string }): Promise<TestUser> {
      const password = opts.password ?? FACTORY_PASSWORD;
      const hash = opts.password ? await hashSecret(password) : await (sharedHash ??= hashSecret(FACTORY_PASSWORD));
      const username = opts.username ?? `${opts.role}-${uniq()}`;
      const [row] = await db('users')
        .insert({
          username,
          password_hash: hash,
          display_name: opts.displayName ?? username,
          role: opts.role,
          institution_id: opts.institutionId ?? null,
        })
        .returning(['id']);
      return { id: row.id, username, password, role: opts.role, institutionId: opts.institutionId ?? null };
    },
  };
}

export type Factories = ReturnType<typeof createFactories>;
