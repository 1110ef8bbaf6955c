import { buildRouter, routeTransfer, type Route } from '../../server/domain/routing';

const routes: Route[] = [
  { institutionId: 'icbc', indicatorKind: 'bank_account', prefix: '6222' },
  { institutionId: 'icbc-sh', indicatorKind: 'bank_account', prefix: '622202' },
  { institutionId: 'ccb', indicatorKind: 'bank_account', prefix: '6217' },
  { institutionId: 'unionpay', indicatorKind: 'bank_account', prefix: '' },
  { institutionId: 'china-mobile', indicatorKind: 'phone', prefix: '+86138' },
  { institutionId: 'china-unicom', indicatorKind: 'phone', prefix: '+86171' },
  { institutionId: 'shop-platform', indicatorKind: 'url', prefix: 'shop.example' },
  { institutionId: 'shop-secure', indicatorKind: 'url', prefix: 'https://shop.example/secure' },
  { institutionId: 'cert', indicatorKind: 'url', prefix: '' },
  { institutionId: 'shop-platform', indicatorKind: 'domain', prefix: 'shop.example' },
];

describe('buildRouter', () => {
  const route = buildRouter(routes);

  it('picks the longest matching prefix', () => {
    expect(route('bank_account', '6222021234567890')).toBe('icbc-sh');
    expect(route('bank_account', '6222991234567890')).toBe('icbc');
    expect(route('bank_account', '6217001234567890')).toBe('ccb');
  });

  it('falls back to the empty-prefix catch-all of the kind', () => {
    expect(route('bank_account', '9558801234567890')).toBe('unionpay');
  });

  it('answers null when nothing matches and the kind has no catch-all', () => {
    expect(route('phone', '+8613900000000')).toBeNull();
    expect(route('sms_sender', '95588')).toBeNull();
  });

  it('keeps kinds apart', () => {
    expect(route('phone', '+8613800138000')).toBe('china-mobile');
    expect(route('domain', '6222021234567890')).toBeNull();
  });

  it('matches a url by its host as well as by the whole normalized value', () => {
    expect(route('url', 'http://shop.example/item?id=1')).toBe('shop-platform');
    expect(route('url', 'https://shop.example/secure/login')).toBe('shop-secure');
    expect(route('url', 'https://elsewhere.example/shop.example')).toBe('cert');
  });

  it('matches a domain value by prefix', () => {
    expect(route('domain', 'shop.example')).toBe('shop-platform');
    expect(route('domain', 'other.example')).toBeNull();
  });

  it('resolves two institutions on the same prefix to the lowest id, whatever the order', () => {
    const a: Route = { institutionId: 'bank-b', indicatorKind: 'bank_account', prefix: '6222' };
    const b: Route = { institutionId: 'bank-a', indicatorKind: 'bank_account', prefix: '6222' };
    expect(buildRouter([a, b])('bank_account', '62220000')).toBe('bank-a');
    expect(buildRouter([b, a])('bank_account', '62220000')).toBe('bank-a');
  });

  it('does not match a prefix longer than the value', () => {
    const r = buildRouter([{ institutionId: 'x', indicatorKind: 'bank_account', prefix: '622202123456789012345' }]);
    expect(r('bank_account', '6222021234')).toBeNull();
  });

  it('among thousands of routes of many prefix lengths, still picks the longest matching prefix', () => {
    // A small seeded generator keeps the sample the same on every run.
    let seed = 42;
    const next = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed >>> 8;
    };
    const digits = (n: number) => Array.from({ length: n }, () => String(next() % 10)).join('');

    const many: Route[] = [];
    for (let i = 0; i < 5000; i++) {
      many.push({ institutionId: `bank-${String(i).padStart(4, '0')}`, indicatorKind: 'bank_account', prefix: digits(1 + (i % 12)) });
    }
    // A nested chain makes sure a short match never hides a longer one on the same path; its ids
    // sort before "bank-" so that a random route on the same prefix loses the tie.
    for (let len = 1; len <= 12; len++) {
      many.push({ institutionId: `a-chain-${String(len).padStart(2, '0')}`, indicatorKind: 'bank_account', prefix: '955880123456'.slice(0, len) });
    }
    const r = buildRouter(many);

    // Reference answer: the longest prefix that matches, ties going to the lowest id.
    const expected = (value: string): string | null => {
      let best: Route | null = null;
      for (const route of many) {
        if (!value.startsWith(route.prefix)) continue;
        if (!best || route.prefix.length > best.prefix.length
          || (route.prefix.length === best.prefix.length && route.institutionId < best.institutionId)) best = route;
      }
      return best ? best.institutionId : null;
    };

    const samples: string[] = [];
    for (let i = 0; i < 500; i++) samples.push(`${many[next() % many.length]!.prefix}${digits(19)}`.slice(0, 19));
    for (let i = 0; i < 500; i++) samples.push(digits(16));
    const answers = samples.map((v) => [v, r('bank_account', v)]);
    expect(answers).toEqual(samples.map((v) => [v, expected(v)]));

    for (let len = 1; len <= 12; len++) {
      expect(r('bank_account', `${'955880123456'.slice(0, len)}x`)).toBe(`a-chain-${String(len).padStart(2, '0')}`);
    }
    // Sampled values do reach prefixes of many different lengths, so the check above is not vacuous.
    const lengthsHit = new Set(answers.map(([, id]) => many.find((m) => m.institutionId === id)?.prefix.length));
    expect(lengthsHit.size).toBeGreaterThanOrEqual(8);
  });
});

describe('routeTransfer', () => {
  const route = buildRouter(routes);
  const known = new Set(['icbc', 'ccb', 'abc']);

  it('sends the transfer to the named bank when it is known', () => {
    expect(routeTransfer(route, '6217001234567890', 'abc', known)).toBe('abc');
  });

  it('routes by bank_account when no bank is named', () => {
    expect(routeTransfer(route, '6217001234567890', null, known)).toBe('ccb');
    expect(routeTransfer(route, '6217001234567890', undefined, known)).toBe('ccb');
    expect(routeTransfer(route, '6217001234567890', '', known)).toBe('ccb');
  });

  it('routes by bank_account when the named bank is unknown', () => {
    expect(routeTransfer(route, '6222021234567890', 'no-such-bank', known)).toBe('icbc-sh');
  });

  it('answers null when neither the name nor a route places it', () => {
    const none = buildRouter([]);
    expect(routeTransfer(none, '6222021234567890', 'no-such-bank', known)).toBeNull();
  });
});
