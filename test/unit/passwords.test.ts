import { hashSecret, verifySecret } from '../../server/auth/passwords';
import { normalizeRoutePrefix } from '../../server/admin/admin.service';

describe('secret hashing', () => {
  it('hashes with scrypt and a fresh salt, and verifies only the right secret', async () => {
    const a = await hashSecret('correct horse battery');
    const b = await hashSecret('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse battery');
    expect(await verifySecret('correct horse battery', a)).toBe(true);
    expect(await verifySecret('correct horse battery', b)).toBe(true);
    expect(await verifySecret('correct horse batterY', a)).toBe(false);
  });

  it('refuses stored values that are not scrypt hashes', async () => {
    expect(await verifySecret('plain', 'plain')).toBe(false);
    expect(await verifySecret('x', 'md5$abc')).toBe(false);
  });
});

describe('route prefixes', () => {
  it.each([
    ['bank_account', '6222 02-12', '62220212'],
    ['bank_account', '', ''],
    ['phone', '+86 (171) 00', '+8617100'],
    ['sms_sender', '+86 106', '+86106'],
    ['sms_sender', '【icbc】', 'ICBC'],
    ['sms_sender', 'bank', 'BANK'],
    ['url', ' Pay.Example.COM ', 'pay.example.com'],
    ['domain', 'Example.COM.', 'example.com'],
    ['payment_account', 'Alice@Pay', 'alice@pay'],
  ] as const)('%s %j → %j', (kind, raw, expected) => {
    expect(normalizeRoutePrefix(kind, raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['bank_account', '62x2'],
    ['phone', '86171'],
    ['phone', '+86abc'],
  ] as const)('refuses %s %j', (kind, raw) => {
    expect(normalizeRoutePrefix(kind, raw).ok).toBe(false);
  });
});
