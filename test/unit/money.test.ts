import {
  MoneyFormatError,
  formatMinor,
  formatMinorPlain,
  isMinor,
  minorDigits,
  parseMajorToMinor,
  sumMinor,
  toMinorNumber,
} from '../../server/domain/money';

describe('minorDigits', () => {
  it('knows the minor unit of each currency', () => {
    expect(minorDigits('CNY')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('KWD')).toBe(3);
    expect(minorDigits('cny')).toBe(2);
  });

  it('refuses something that is not a currency code', () => {
    expect(() => minorDigits('C1')).toThrow(RangeError);
  });
});

describe('parseMajorToMinor', () => {
  it.each([
    ['1,234.56', 123456],
    ['1234.5', 123450],
    ['1234', 123400],
    ['0.01', 1],
    ['.5', 50],
    ['¥1,234.56', 123456],
    ['￥1,234.56', 123456],
    ['CN¥1,234.56', 123456],
    ['CNY 1234.56', 123456],
    ['1234.56 元', 123456],
    ['RMB1,000', 100000],
    ['  50000 ', 5000000],
    ['１２３', 12300],
    ['１，２３４．５６', 123456],
    ['0', 0],
  ])('reads %j as %i fen', (text, minor) => {
    expect(parseMajorToMinor(text, 'CNY')).toBe(minor);
  });

  it('is exact where float arithmetic is not', () => {
    // 1.15 * 100 === 114.99999999999999 and 4.35 * 100 === 434.99999999999994 in floats.
    expect(parseMajorToMinor('1.15', 'CNY')).toBe(115);
    expect(parseMajorToMinor('4.35', 'CNY')).toBe(435);
    expect(parseMajorToMinor('90071992547409.91', 'CNY')).toBe(9007199254740991);
  });

  it('uses the currency minor unit', () => {
    expect(parseMajorToMinor('1,234', 'JPY')).toBe(1234);
    expect(parseMajorToMinor('1.234', 'KWD')).toBe(1234);
  });

  it.each([
    ['', 'Enter an amount'],
    ['   ', 'Enter an amount'],
    ['-5', 'negative'],
    ['-¥5', 'negative'],
    ['¥-5', 'negative'],
    ['1.234', 'at most 2 decimal places'],
    ['abc', 'not an amount'],
    ['12,34', 'not an amount'],
    ['1.2.3', 'not an amount'],
    ['.', 'not an amount'],
    ['1e5', 'not an amount'],
    ['90071992547409.92', 'too large'],
    ['99999999999999999999999', 'too large'],
  ])('rejects %j with a message about %s', (text, fragment) => {
    let caught: unknown;
    try {
      parseMajorToMinor(text, 'CNY');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(MoneyFormatError);
    expect((caught as Error).message).toContain(fragment);
  });

  it('rejects decimals for a currency without a minor unit', () => {
    expect(() => parseMajorToMinor('100.5', 'JPY')).toThrow('no decimal places');
  });
});

describe('formatMinor', () => {
  it('shows the yuan with the narrow symbol in English and Chinese', () => {
    expect(formatMinor(123456, 'CNY', 'en')).toBe('¥1,234.56');
    expect(formatMinor(123456, 'CNY', 'zh-CN')).toBe('¥1,234.56');
  });

  it('keeps every digit of amounts beyond float precision for fractions', () => {
    expect(formatMinor(9007199254740991, 'CNY', 'en')).toBe('¥90,071,992,547,409.91');
  });

  it('pads small amounts and respects the minor unit', () => {
    expect(formatMinor(5, 'CNY', 'en')).toBe('¥0.05');
    expect(formatMinor(0, 'CNY', 'en')).toBe('¥0.00');
    expect(formatMinor(1234, 'JPY', 'en')).toBe('¥1,234');
    expect(formatMinor(-150, 'USD', 'en')).toBe('-$1.50');
  });

  it('follows the locale separators', () => {
    expect(formatMinor(123450, 'EUR', 'de-DE')).toBe('1.234,50\u00a0€');
  });

  it('refuses a fractional minor amount', () => {
    expect(() => formatMinor(1.5, 'CNY', 'en')).toThrow(RangeError);
  });
});

describe('formatMinorPlain', () => {
  it('gives a plain decimal that parses back to the same amount', () => {
    expect(formatMinorPlain(123456, 'CNY')).toBe('1234.56');
    expect(formatMinorPlain(7, 'CNY')).toBe('0.07');
    expect(formatMinorPlain(1234, 'JPY')).toBe('1234');
    expect(formatMinorPlain(-7, 'CNY')).toBe('-0.07');
    for (const minor of [0, 1, 99, 100, 123456789, Number.MAX_SAFE_INTEGER]) {
      expect(parseMajorToMinor(formatMinorPlain(minor, 'CNY'), 'CNY')).toBe(minor);
    }
  });
});

describe('isMinor', () => {
  it('accepts only safe non-negative integers', () => {
    expect(isMinor(0)).toBe(true);
    expect(isMinor(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(isMinor(-1)).toBe(false);
    expect(isMinor(1.5)).toBe(false);
    expect(isMinor(Number.MAX_SAFE_INTEGER + 1)).toBe(false);
    expect(isMinor('100')).toBe(false);
    expect(isMinor(NaN)).toBe(false);
    expect(isMinor(10n)).toBe(false);
  });
});

describe('sumMinor', () => {
  it('adds amounts', () => {
    expect(sumMinor([])).toBe(0);
    expect(sumMinor([100, 250, 5])).toBe(355);
    expect(sumMinor([Number.MAX_SAFE_INTEGER, -1, 1])).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('throws when the sum leaves the safe range', () => {
    expect(() => sumMinor([Number.MAX_SAFE_INTEGER, 1])).toThrow(RangeError);
  });

  it('throws on a value that is not a safe integer', () => {
    expect(() => sumMinor([1, 0.5])).toThrow(RangeError);
  });
});

describe('toMinorNumber', () => {
  it('converts what pg returns for int8 and numeric sums', () => {
    expect(toMinorNumber('123456')).toBe(123456);
    expect(toMinorNumber('123456.000')).toBe(123456);
    expect(toMinorNumber('-20')).toBe(-20);
    expect(toMinorNumber(42)).toBe(42);
    expect(toMinorNumber(42n)).toBe(42);
    expect(toMinorNumber('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('reads an empty SUM (NULL) as zero', () => {
    expect(toMinorNumber(null)).toBe(0);
  });

  it('throws on fractions and unsafe values', () => {
    expect(() => toMinorNumber('12.5')).toThrow(RangeError);
    expect(() => toMinorNumber('9007199254740992')).toThrow(RangeError);
    expect(() => toMinorNumber(9007199254740992n)).toThrow(RangeError);
    expect(() => toMinorNumber(1.5)).toThrow(RangeError);
    expect(() => toMinorNumber('abc')).toThrow(RangeError);
    expect(() => toMinorNumber('')).toThrow(RangeError);
  });
});

describe('MoneyFormatError problems', () => {
  const problemOf = (text: string, currency = 'CNY') => {
    try {
      parseMajorToMinor(text, currency);
    } catch (err) {
      return err instanceof MoneyFormatError ? { problem: err.problem, params: err.params } : err;
    }
    return undefined;
  };

  it('names each problem so a page can say it in the reader\'s language', () => {
    expect(problemOf('')).toEqual({ problem: 'empty', params: {} });
    expect(problemOf('-5')).toEqual({ problem: 'negative', params: {} });
    expect(problemOf('12,34')).toEqual({ problem: 'notAmount', params: { text: '12,34' } });
    expect(problemOf('1.5', 'JPY')).toEqual({ problem: 'noDecimals', params: { code: 'JPY' } });
    expect(problemOf('1.234')).toEqual({ problem: 'maxDecimals', params: { code: 'CNY', digits: '2' } });
    expect(problemOf('99999999999999999')).toEqual({ problem: 'tooLarge', params: {} });
  });
});
