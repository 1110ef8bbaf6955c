/**
 * The request bodies the load generator sends. Pure functions of an index, so that every phase of
 * a run (and every run) files the same reports, and two phases never file the same one: each phase
 * takes its own range of indexes.
 */

/** Card BINs of the seeded banks (server/cli/seed.ts), so every transfer routes to a bank. */
const BINS = ['622202', '621226', '621700', '436742', '622848', '621661', '622260', '622588', '621058', '623091'];
/** Mobile segments of the three seeded carriers, so every phone routes to a carrier. */
const SEGMENTS = ['138', '139', '150', '186', '185', '156', '189', '133', '181'];
const FRAUD_TYPES = ['impersonation', 'investment', 'romance', 'customer_service', 'part_time_job', 'loan', 'shopping', 'other'];
const CHANNELS = ['hotline', 'hotline', 'hotline', 'walk_in', 'online', 'referral'];

const digits = (n: number, width: number) => String(n % 10 ** width).padStart(width, '0');
/** A cheap, well-spread hash of an index: amounts and choices vary without a random generator. */
const spread = (i: number, salt: number) => ((i * 2654435761 + salt * 40503) >>> 0) % 1_000_003;

/** A receiving account as a victim reads it off a receipt: grouped by four, with a bank's BIN. */
export function accountFor(n: number): string {
  const raw = `${BINS[n % BINS.length]}${digits(n, 10)}`;
  return raw.replace(/(\d{4})(?=\d)/g, '$1 ');
}

export function phoneFor(n: number): string {
  const s = digits(n, 8);
  return `+86 ${SEGMENTS[n % SEGMENTS.length]} ${s.slice(0, 4)} ${s.slice(4)}`;
}

export function urlFor(n: number): string {
  return `https://refund-${n.toString(36)}.example/pay?utm_source=sms`;
}

/** What makes a wave of reports hot: everyone paid the same mule account and was called from one number. */
export type HotSpot = { account: string; phone: string };

/**
 * A report as a desk officer files it: 2 transfers and 2 indicators (one phone, one URL). With
 * `hot`, both transfers go to the hot account and the phone is the hot phone; the URL stays the
 * report's own.
 */
export function reportBody(i: number, now: number, hot?: HotSpot): string {
  const occurred = new Date(now - (30 + (spread(i, 1) % 90)) * 60_000);
  const transfer = (k: number) => ({
    toAccount: hot ? hot.account : accountFor(2 * i + k),
    toAccountName: `收款人 ${i}-${k}`,
    amountMinor: 100_000 + (spread(i, 2 + k) % 50_000) * 100,
    transferredAt: new Date(occurred.getTime() + (k + 1) * 5 * 60_000).toISOString(),
  });
  return JSON.stringify({
    channel: CHANNELS[i % CHANNELS.length],
    fraudType: FRAUD_TYPES[spread(i, 3) % FRAUD_TYPES.length],
    occurredAt: occurred.toISOString(),
    victim: { name: `受害人 ${i}`, phone: phoneFor(50_000_000 + i), idNumber: `330102199001${digits(i, 6)}` },
    narrative: '对方自称客服，称订单异常需要退款，引导受害人下载会议软件共享屏幕，并按提示向“安全账户”转账。',
    currency: 'CNY',
    transfers: [transfer(0), transfer(1)],
    indicators: [
      { kind: 'phone', value: hot ? hot.phone : phoneFor(i) },
      { kind: 'url', value: urlFor(i) },
    ],
  });
}

export type LookupItem = { kind: 'phone' | 'url' | 'bank_account'; value: string };

/**
 * A screening batch: half values the system knows (taken from what the run filed), half values it
 * cannot know (outside every range the bodies above use), phones, URLs and bank accounts mixed.
 */
export function lookupBody(r: number, itemsPerRequest: number, known: LookupItem[]): string {
  const items: LookupItem[] = [];
  for (let j = 0; j < itemsPerRequest; j++) {
    const n = r * itemsPerRequest + j;
    items.push(j % 2 === 0 && known.length > 0 ? known[(n * 7919) % known.length]! : unknownValue(n));
  }
  return JSON.stringify({ items });
}

/** A value no report of the run names (outside every range the bodies above use): phones, URLs and accounts in turn. */
function unknownValue(n: number): LookupItem {
  const u = 90_000_000 + n;
  const kind = (['phone', 'url', 'bank_account'] as const)[n % 3]!;
  return {
    kind,
    value: kind === 'phone' ? `+86${SEGMENTS[u % SEGMENTS.length]}${digits(u, 8)}`
      : kind === 'url' ? `https://unknown-${u.toString(36)}.example/`
        : `${BINS[u % BINS.length]}9${digits(u, 9)}`,
  };
}

/**
 * A batch of payments to screen (POST /screening): `flaggedPerRequest` of them, spread through the
 * batch, pay a payee the run's reports named (suspected: each opens a warning at the payer's bank),
 * the others pay payees nobody named. Refs are the batch's own (`refPrefix`, batch, position).
 */
export function screeningBody(r: number, itemsPerRequest: number, known: LookupItem[], flaggedPerRequest: number, refPrefix: string): string {
  const every = flaggedPerRequest > 0 ? Math.max(1, Math.floor(itemsPerRequest / flaggedPerRequest)) : 0;
  const items = [];
  for (let j = 0; j < itemsPerRequest; j++) {
    const n = r * itemsPerRequest + j;
    const flagged = every > 0 && known.length > 0 && j % every === 0 && j / every < flaggedPerRequest;
    items.push({
      ref: `${refPrefix}-${r}-${j}`,
      payer: { account: `${BINS[n % BINS.length]}8${digits(n, 9)}`, name: `付款人 ${n}` },
      payee: flagged ? known[(n * 7919) % known.length]! : unknownValue(n),
      amountMinor: 10_000 + (spread(n, 5) % 100_000) * 100,
      currency: 'CNY',
    });
  }
  return JSON.stringify({ items });
}
