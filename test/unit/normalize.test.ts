import { normalizeAccount, normalizeIndicator, urlIdentity } from '../../server/domain/normalize';
import type { IndicatorKind } from '../../server/domain/kinds';

const norm = (kind: IndicatorKind, raw: string) => normalizeIndicator(kind, raw, 'CN');

function valueOf(kind: IndicatorKind, raw: string): string {
  const r = norm(kind, raw);
  if (!r.ok) throw new Error(`expected ${kind} ${JSON.stringify(raw)} to normalize, got: ${r.message}`);
  return r.value;
}

function messageOf(kind: IndicatorKind, raw: string): string {
  const r = norm(kind, raw);
  if (r.ok) throw new Error(`expected ${kind} ${JSON.stringify(raw)} to be refused, got ${r.value}`);
  expect(r.message.length).toBeGreaterThan(0);
  return r.message;
}

describe('phone', () => {
  it.each([
    ['+86 171 0000 1234', '+8617100001234'],
    ['13800138000', '+8613800138000'],
    ['138-0013-8000', '+8613800138000'],
    ['+86 (138) 0013-8000', '+8613800138000'],
    ['008613800138000', '+8613800138000'],
    ['１３８００１３８０００', '+8613800138000'],
    ['+1 202 555 0100', '+12025550100'],
  ])('%j → %s', (raw, e164) => {
    expect(valueOf('phone', raw)).toBe(e164);
  });

  it('uses the given default region for national numbers', () => {
    expect(normalizeIndicator('phone', '020 7946 0000', 'GB')).toEqual({ ok: true, value: '+442079460000' });
  });

  it.each(['', '12', 'not a number', '+123'])('refuses %j', (raw) => {
    messageOf('phone', raw);
  });
});

describe('sms_sender', () => {
  it('turns a phone number into E.164', () => {
    expect(valueOf('sms_sender', '138 0013 8000')).toBe('+8613800138000');
  });

  it('keeps short codes as digits', () => {
    expect(valueOf('sms_sender', '95588')).toBe('95588');
    expect(valueOf('sms_sender', ' 10086 ')).toBe('10086');
  });

  it('upper-cases alphanumeric sender ids and removes spaces', () => {
    expect(valueOf('sms_sender', 'icbc-bank')).toBe('ICBC-BANK');
    expect(valueOf('sms_sender', ' Pay Pal ')).toBe('PAYPAL');
  });

  it('reads a Chinese 【signature】 as the name inside it', () => {
    expect(valueOf('sms_sender', '【工商银行】')).toBe('工商银行');
    expect(valueOf('sms_sender', '工商银行')).toBe('工商银行');
  });

  it('refuses empty, over-long and odd sender ids', () => {
    messageOf('sms_sender', '   ');
    messageOf('sms_sender', 'A'.repeat(21));
    expect(valueOf('sms_sender', 'A'.repeat(20))).toBe('A'.repeat(20));
    messageOf('sms_sender', 'bad<sender>');
  });
});

describe('url', () => {
  it.each([
    ['pay-refund.example/x', 'http://pay-refund.example/x'],
    ['http://pay-refund.example/x', 'http://pay-refund.example/x'],
    ['HTTPS://Pay-Refund.EXAMPLE/Path/Keep?Case=Yes', 'http://pay-refund.example/Path/Keep?Case=Yes'],
    ['https://example.com:443/a', 'http://example.com/a'],
    ['http://example.com:80/a', 'http://example.com/a'],
    ['http://example.com:8080/a', 'http://example.com:8080/a'],
    ['example.com:8080/a', 'http://example.com:8080/a'],
    ['//example.com/a', 'http://example.com/a'],
    ['http://example.com/a#section', 'http://example.com/a'],
    ['http://example.com./a', 'http://example.com/a'],
    ['http://bank.com@evil.example/login', 'http://evil.example/login'],
    ['http://例子.中国/登录', 'http://xn--fsqu00a.xn--fiqs8s/%E7%99%BB%E5%BD%95'],
  ])('%j → %s', (raw, value) => {
    expect(valueOf('url', raw)).toBe(value);
  });

  it('drops tracking parameters and keeps the others in order', () => {
    expect(
      valueOf('url', 'https://shop.example/p?id=7&utm_source=sms&b=2&fbclid=x&UTM_Campaign=y&a=1&spm=a.b&gclid=z'),
    ).toBe('http://shop.example/p?id=7&b=2&a=1');
  });

  it('leaves no "?" when every parameter was tracking', () => {
    expect(valueOf('url', 'https://shop.example/p?utm_source=sms&from=singlemessage&share_token=abc')).toBe(
      'http://shop.example/p',
    );
    expect(valueOf('url', 'https://shop.example/p?')).toBe('http://shop.example/p');
  });

  it('keeps the encoding of the parameters it keeps', () => {
    expect(valueOf('url', 'https://shop.example/p?q=a%20b&utm_medium=x&r=c+d')).toBe(
      'http://shop.example/p?q=a%20b&r=c+d',
    );
  });

  it('gives the same value for the same page shared two ways', () => {
    expect(valueOf('url', 'HTTP://Pay-Refund.example:80/x?utm_source=wx#top')).toBe(
      valueOf('url', 'pay-refund.example/x?from=timeline'),
    );
  });

  it('gives one value to a page written with http or https, with or without a trailing slash', () => {
    const one = valueOf('url', 'http://pay-refund.example/login');
    for (const other of [
      'https://pay-refund.example/login', 'http://pay-refund.example/login/', 'https://pay-refund.example/login/',
      'HTTPS://PAY-REFUND.example/login//', 'pay-refund.example/login/', 'https://pay-refund.example:443/login/#x',
    ]) expect(valueOf('url', other)).toBe(one);
    expect(one).toBe('http://pay-refund.example/login');
  });

  it.each([
    ['https://pay.example/', 'http://pay.example/'],
    ['https://pay.example', 'http://pay.example/'],
    ['https://pay.example/a/?x=1', 'http://pay.example/a?x=1'],
    ['https://pay.example/a/?next=/b/', 'http://pay.example/a?next=/b/'],
    ['https://pay.example:8443/a/', 'http://pay.example:8443/a'],
  ])('keeps the root, the query and the port: %j → %s', (raw, value) => {
    expect(valueOf('url', raw)).toBe(value);
  });

  it('still tells apart different paths, ports and queries', () => {
    expect(valueOf('url', 'https://pay.example/a')).not.toBe(valueOf('url', 'https://pay.example/a/b'));
    expect(valueOf('url', 'https://pay.example:8443/a')).not.toBe(valueOf('url', 'https://pay.example/a'));
    expect(valueOf('url', 'https://pay.example/a?x=1')).not.toBe(valueOf('url', 'https://pay.example/a'));
  });

  it('urlIdentity leaves a value already in its spelling as it is', () => {
    for (const v of ['http://pay.example/', 'http://pay.example/a?x=1', 'http://xn--fsqu00a.xn--fiqs8s/%E7%99%BB']) expect(urlIdentity(v)).toBe(v);
  });

  it.each([
    ['ftp://example.com/file', 'http and https'],
    ['mailto:someone@example.com', 'http and https'],
    ['javascript:alert(1)', 'http and https'],
    ['', 'Enter'],
    ['http://', 'not a URL'],
    ['pay refund', 'not a URL'],
    ['localhost/x', 'not a site'],
  ])('refuses %j', (raw, fragment) => {
    expect(messageOf('url', raw)).toContain(fragment);
  });

  it('refuses an over-long URL', () => {
    messageOf('url', `https://example.com/${'a'.repeat(2100)}`);
  });
});

describe('domain', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['  example.com.  ', 'example.com'],
    ['https://Pay.Example.com/path?x=1', 'pay.example.com'],
    ['pay.example.com:8443/login', 'pay.example.com'],
    ['http://user@evil.example/', 'evil.example'],
    ['例子.中国', 'xn--fsqu00a.xn--fiqs8s'],
    ['BÜCHER.de', 'xn--bcher-kva.de'],
  ])('%j → %s', (raw, value) => {
    expect(valueOf('domain', raw)).toBe(value);
  });

  it.each(['', 'localhost', 'a..b', '-bad.example', 'bad-.example', 'exa mple.com', '1.2.3.4', `${'a'.repeat(64)}.com`])(
    'refuses %j',
    (raw) => {
      messageOf('domain', raw);
    },
  );
});

describe('bank_account and normalizeAccount', () => {
  it('keeps only the digits', () => {
    expect(valueOf('bank_account', '6222 0212 3456 7890')).toBe('6222021234567890');
    expect(normalizeAccount('6222-0212-3456-7890')).toEqual({ ok: true, value: '6222021234567890' });
    expect(normalizeAccount('６２２２０２１２３４５６７８９０')).toEqual({ ok: true, value: '6222021234567890' });
  });

  it('accepts 8 to 30 digits only', () => {
    expect(normalizeAccount('12345678').ok).toBe(true);
    expect(normalizeAccount('1'.repeat(30)).ok).toBe(true);
    expect(normalizeAccount('1234567').ok).toBe(false);
    expect(normalizeAccount('1'.repeat(31)).ok).toBe(false);
  });

  it('refuses letters and empty input with a message', () => {
    const letters = normalizeAccount('6222abc0212345');
    expect(letters).toEqual({ ok: false, message: expect.stringContaining('digits') });
    expect(normalizeAccount('  ').ok).toBe(false);
  });
});

describe('payment_account and im_account', () => {
  it('trims, collapses inner spaces and lower-cases', () => {
    expect(valueOf('payment_account', '  Fraud.Shop@Example.com ')).toBe('fraud.shop@example.com');
    expect(valueOf('im_account', 'Lucky   Star\t88')).toBe('lucky star 88');
  });

  it('turns phone-looking ids into E.164 so a wallet keyed on a phone matches the phone', () => {
    expect(valueOf('payment_account', '138 0013 8000')).toBe('+8613800138000');
    expect(valueOf('im_account', '+86 138-0013-8000')).toBe('+8613800138000');
  });

  it('leaves short numeric ids (QQ numbers) alone', () => {
    expect(valueOf('im_account', '123456789')).toBe('123456789');
  });

  it('removes group separators from a long digit id that is no phone number', () => {
    expect(valueOf('payment_account', '6222 0212 3456 7890 123')).toBe('6222021234567890123');
  });

  it('accepts 1 to 128 characters', () => {
    expect(valueOf('im_account', 'x'.repeat(128))).toBe('x'.repeat(128));
    messageOf('im_account', 'x'.repeat(129));
    messageOf('payment_account', '   ');
  });
});
