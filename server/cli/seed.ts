import type { Config } from '../config';
import { loadConfig } from '../config';
import { createDb, type Db, type DbOrTrx } from '../db';
import { createLogger, type Logger } from '../logger';
import { hashSecret, verifySecret } from '../auth/passwords';
import type { IndicatorKind, InstitutionKind, Role } from '../domain/kinds';
import { normalizeRoutePrefix } from '../admin/admin.service';
import { upsertInstitution, type RouteSpec } from '../admin/institutions.repo';
import { findUserByUsername, insertUser, updateUser } from '../admin/users.repo';
import { findApiClientByClientId, upsertApiClient } from '../admin/api-clients.repo';

/**
 * The demo center, after the Zhejiang anti-fraud center of 2016: police officers working beside
 * seven banks, three carriers and an internet platform, who block numbers and sites and freeze
 * defrauded money. Every partner but one is `simulated`, so tasks are answered without anyone at a
 * bank; one bank stays `manual`, so whoever tries the demo can sign in as its liaison and answer
 * its tasks by hand.
 */

export const DEMO_PASSWORD = 'demo-password-123';
export const DEMO_CLIENT = { clientId: 'icbc-demo', clientSecret: 'icbc-demo-client-secret-123', institutionId: 'icbc' } as const;
export const CENTER_ID = 'zj-anti-fraud-center';
/** The demo bank whose tasks wait in its liaison's inbox instead of being answered by the simulator. */
export const DEMO_MANUAL_BANK = 'cmb';
export const DEMO_MANUAL_LIAISON = `liaison-${DEMO_MANUAL_BANK}`;

type SeedInstitution = { id: string; name: string; kind: InstitutionKind; routes: Partial<Record<IndicatorKind, string[]>> };

// Card BINs (the first six digits of a debit card number) of each bank's common UnionPay debit cards.
const BANKS: SeedInstitution[] = [
  { id: 'icbc', name: '中国工商银行浙江省分行', kind: 'bank', routes: { bank_account: ['622202', '621226', '622208', '621225'] } },
  { id: 'ccb', name: '中国建设银行浙江省分行', kind: 'bank', routes: { bank_account: ['621700', '436742', '622700'] } },
  { id: 'abc', name: '中国农业银行浙江省分行', kind: 'bank', routes: { bank_account: ['622848', '622845', '622846'] } },
  { id: 'boc', name: '中国银行浙江省分行', kind: 'bank', routes: { bank_account: ['621661', '456351', '621790'] } },
  { id: 'bocom', name: '交通银行浙江省分行', kind: 'bank', routes: { bank_account: ['622260', '622262'] } },
  { id: 'cmb', name: '招商银行杭州分行', kind: 'bank', routes: { bank_account: ['622588', '621483', '621485'] } },
  { id: 'zjrcu', name: '浙江农村信用社联合社', kind: 'bank', routes: { bank_account: ['621058', '623091'] } },
];

// Mobile number segments by the operator that was allocated them; a ported number keeps its
// segment, so this is where a block request starts. 170/171 are virtual-operator segments
// common in fraud calls; they are carried on the listed operators' networks.
const MOBILE = ['134', '135', '136', '137', '138', '139', '147', '150', '151', '152', '157', '158', '159', '178', '182', '183', '184', '187', '188', '198'];
const UNICOM = ['130', '131', '132', '145', '155', '156', '166', '171', '176', '185', '186'];
const TELECOM = ['133', '153', '170', '173', '177', '180', '181', '189', '199'];
const phoneRoutes = (segments: string[]) => {
  const prefixes = segments.map((s) => `+86${s}`);
  return { phone: prefixes, sms_sender: prefixes };
};

const CARRIERS: SeedInstitution[] = [
  { id: 'china-mobile', name: '中国移动浙江公司', kind: 'carrier', routes: phoneRoutes(MOBILE) },
  { id: 'china-unicom', name: '中国联通浙江省分公司', kind: 'carrier', routes: phoneRoutes(UNICOM) },
  { id: 'china-telecom', name: '中国电信浙江公司', kind: 'carrier', routes: phoneRoutes(TELECOM) },
];

// The platform takes every site, payment wallet and chat account no one more specific claims.
const PLATFORMS: SeedInstitution[] = [
  { id: 'alibaba', name: '阿里巴巴集团', kind: 'platform', routes: { url: [''], domain: [''], payment_account: [''], im_account: [''] } },
];

export const DEMO_INSTITUTIONS: SeedInstitution[] = [
  { id: CENTER_ID, name: '浙江省反欺诈中心', kind: 'police', routes: {} },
  ...BANKS,
  ...CARRIERS,
  ...PLATFORMS,
];

type SeedUser = { username: string; displayName: string; role: Role; institutionId: string | null };

const LIAISON_NAMES: Record<string, string> = {
  icbc: '张敏', ccb: '刘洋', abc: '赵丽', boc: '孙伟', bocom: '周婷', cmb: '吴昊', zjrcu: '郑佳',
  'china-mobile': '钱晨', 'china-unicom': '冯雪', 'china-telecom': '何平', alibaba: '许诺',
};

export const DEMO_USERS: SeedUser[] = [
  { username: 'officer', displayName: '接警员 王磊', role: 'desk_officer', institutionId: CENTER_ID },
  { username: 'officer2', displayName: '接警员 陈静', role: 'desk_officer', institutionId: CENTER_ID },
  { username: 'supervisor', displayName: '值班长 李强', role: 'supervisor', institutionId: CENTER_ID },
  ...[...BANKS, ...CARRIERS, ...PLATFORMS].map((i) => ({
    username: `liaison-${i.id}`,
    displayName: `${i.name} 驻中心联络员 ${LIAISON_NAMES[i.id] ?? ''}`.trim(),
    role: 'liaison' as const,
    institutionId: i.id,
  })),
];

export function demoIntegration(inst: { id: string; kind: InstitutionKind }): 'manual' | 'simulated' {
  return inst.kind === 'police' || inst.id === DEMO_MANUAL_BANK ? 'manual' : 'simulated';
}

function routesOf(inst: SeedInstitution): RouteSpec[] {
  return Object.entries(inst.routes).flatMap(([kind, prefixes]) =>
    (prefixes ?? []).map((raw) => {
      const n = normalizeRoutePrefix(kind as IndicatorKind, raw);
      if (!n.ok) throw new Error(`seed route ${inst.id} ${kind} "${raw}": ${n.message}`);
      return { indicatorKind: kind as IndicatorKind, prefix: n.value };
    }),
  );
}

/** Creates the user, or brings an existing one (matched case-insensitively) back to the seed's state. */
async function upsertUser(db: DbOrTrx, u: SeedUser, password: string): Promise<'created' | 'updated'> {
  const existing = await findUserByUsername(db, u.username);
  if (!existing) {
    await insertUser(db, { ...u, passwordHash: await hashSecret(password) });
    return 'created';
  }
  // Re-hashing would change the row on every run; keep the hash when the password still matches.
  const passwordHash = (await verifySecret(password, existing.passwordHash)) ? undefined : await hashSecret(password);
  await updateUser(db, existing.id, {
    displayName: u.displayName, role: u.role, institutionId: u.institutionId, active: true, passwordHash,
  });
  return 'updated';
}

export type SeedSummary = { institutions: number; routes: number; users: number; apiClients: number; admin: string | null };

/**
 * Idempotent: a second run leaves the same rows. No audit events are written — the seed sets up
 * a demo, it is not somebody's action in the center's record.
 */
export async function seedDemo(db: Db, config: Config, logger: Logger): Promise<SeedSummary> {
  let routes = 0;
  await db.transaction(async (trx) => {
    for (const inst of DEMO_INSTITUTIONS) {
      const specs = routesOf(inst);
      routes += specs.length;
      await upsertInstitution(
        trx,
        { id: inst.id, name: inst.name, kind: inst.kind, integration: demoIntegration(inst), webhookUrl: null, webhookSecret: null },
        specs,
      );
    }
  });

  for (const u of DEMO_USERS) await upsertUser(db, u, DEMO_PASSWORD);

  const existingClient = await findApiClientByClientId(db, DEMO_CLIENT.clientId);
  const clientHash = existingClient && (await verifySecret(DEMO_CLIENT.clientSecret, existingClient.secretHash))
    ? existingClient.secretHash
    : await hashSecret(DEMO_CLIENT.clientSecret);
  await upsertApiClient(db, { clientId: DEMO_CLIENT.clientId, secretHash: clientHash, institutionId: DEMO_CLIENT.institutionId, name: 'ICBC back office (demo)' });

  let admin: string | null = null;
  if (config.admin) {
    await upsertUser(db, { username: config.admin.username, displayName: '系统管理员', role: 'admin', institutionId: CENTER_ID }, config.admin.password);
    admin = config.admin.username;
  } else {
    logger.warn('ADMIN_USERNAME / ADMIN_PASSWORD are not set: no admin user was created');
  }

  const summary: SeedSummary = { institutions: DEMO_INSTITUTIONS.length, routes, users: DEMO_USERS.length + (admin ? 1 : 0), apiClients: 1, admin };
  logger.info(summary, 'demo data seeded');
  return summary;
}

if (require.main === module) {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { process: 'seed' });
  const db = createDb(config.databaseUrl, 2);
  seedDemo(db, config, logger)
    .catch((err) => {
      logger.error({ err }, 'seed failed');
      process.exitCode = 1;
    })
    .finally(() => db.destroy());
}
