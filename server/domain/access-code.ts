import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// A victim's access code to the status of their case (API.md, "Victims: case status"). It is
// printed once on the intake receipt; the center keeps only its hash.
//
// Twelve characters of Crockford's base32 carry 60 random bits: far too many to guess online
// through a rate limit, or offline from a stolen hash, so a fast hash (SHA-256, bound to the case
// number) is as safe here as a slow one, and costs intake nothing. Crockford's alphabet has no
// I, L, O or U, and reading forgives the look-alikes (O is 0, I and L are 1) and any spaces or dashes.

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const ACCESS_CODE_LENGTH = 12;
const GROUP = 4;

/** A fresh code, grouped for reading aloud and typing: "7KQ2-M9XD-R4TB". */
export function newAccessCode(): string {
  // 256 is a multiple of 32: taking the low five bits of each byte is unbiased.
  const chars = Array.from(randomBytes(ACCESS_CODE_LENGTH), (b) => ALPHABET[b & 31]!);
  const groups: string[] = [];
  for (let i = 0; i < chars.length; i += GROUP) groups.push(chars.slice(i, i + GROUP).join(''));
  return groups.join('-');
}

/** The code as typed, in its canonical form (12 characters, no separators), or null if it cannot be one. */
export function canonicalAccessCode(typed: string): string | null {
  const text = typed.normalize('NFKC').toUpperCase().replace(/[\s-]+/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (text.length !== ACCESS_CODE_LENGTH) return null;
  for (const c of text) if (!ALPHABET.includes(c)) return null;
  return text;
}

/** The stored form: SHA-256 over the case number and the canonical code, hex. */
export function hashAccessCode(caseNumber: string, code: string): string {
  const canonical = canonicalAccessCode(code) ?? code;
  return createHash('sha256').update(`afrc-case-access\u0000${caseNumber}\u0000${canonical}`).digest('hex');
}

/** Hash work for an unknown case, so that it costs what a known one with a wrong code costs. */
const NO_CASE_HASH = hashAccessCode('', 'no case');

/**
 * Whether `typed` is the code of the case whose stored hash is `stored` (undefined: no such case,
 * or no code issued). The same work either way: the hash is computed and compared in constant
 * time even when there is nothing to compare it with.
 */
export function accessCodeMatches(stored: string | null | undefined, caseNumber: string, typed: string): boolean {
  const canonical = canonicalAccessCode(typed);
  const computed = Buffer.from(hashAccessCode(caseNumber, canonical ?? typed), 'hex');
  const expected = Buffer.from(stored && /^[0-9a-f]{64}$/.test(stored) ? stored : NO_CASE_HASH, 'hex');
  const equal = timingSafeEqual(computed, expected);
  return equal && canonical !== null && Boolean(stored);
}
