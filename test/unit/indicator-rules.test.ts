import {
  blockingDecision, DEFAULT_BLOCKING_RULE, escalateStatus, needsBlockingTask, parseBlockingRule, type IndicatorFacts,
} from '../../server/domain/indicator-rules';

const facts = (over: Partial<IndicatorFacts> = {}): IndicatorFacts => ({
  status: 'suspected', institutionCount: 1, reportCount: 0, hasOpenTask: false, ...over,
});

describe('blockingDecision (default rule)', () => {
  it('gives a confirmed indicator a blocking task', () => {
    expect(blockingDecision(facts({ status: 'confirmed' }))).toEqual({ create: true, reason: 'confirmed' });
  });

  it('gives an indicator seen by two institutions a blocking task', () => {
    expect(blockingDecision(facts({ institutionCount: 2 }))).toEqual({ create: true, reason: 'institutions' });
  });

  it('gives an indicator cited by a report a blocking task', () => {
    expect(blockingDecision(facts({ reportCount: 1 }))).toEqual({ create: true, reason: 'reported' });
  });

  it('leaves a single suspected sighting alone', () => {
    expect(blockingDecision(facts())).toEqual({ create: false, reason: 'not_enough_evidence' });
    expect(needsBlockingTask(facts({ status: null }))).toBe(false);
  });

  it('never creates a second task while one is open', () => {
    expect(blockingDecision(facts({ status: 'confirmed', institutionCount: 5, reportCount: 3, hasOpenTask: true })))
      .toEqual({ create: false, reason: 'open_task' });
  });

  it('never creates a task for an indicator already blocked', () => {
    expect(blockingDecision(facts({ status: 'blocked', institutionCount: 3 }))).toEqual({ create: false, reason: 'already_blocked' });
  });
});

describe('blockingDecision with a configured rule', () => {
  it('honours a higher institution threshold and switched-off criteria', () => {
    const rule = parseBlockingRule('institutions:3');
    expect(rule).toEqual({ onConfirmed: false, minInstitutions: 3, onReport: false });
    expect(needsBlockingTask(facts({ status: 'confirmed', institutionCount: 2, reportCount: 4 }), rule)).toBe(false);
    expect(needsBlockingTask(facts({ institutionCount: 3 }), rule)).toBe(true);
  });

  it('turns everything off with an empty rule', () => {
    const rule = parseBlockingRule('');
    expect(needsBlockingTask(facts({ status: 'confirmed', institutionCount: 9, reportCount: 9 }), rule)).toBe(false);
  });

  it('parses the default spelling to the default rule and refuses unknown criteria', () => {
    expect(parseBlockingRule('confirmed, institutions:2, reported')).toEqual(DEFAULT_BLOCKING_RULE);
    expect(() => parseBlockingRule('confirmed,popular')).toThrow(RangeError);
    expect(() => parseBlockingRule('institutions:two')).toThrow(RangeError);
  });
});

describe('escalateStatus', () => {
  it('only moves up the ladder suspected → confirmed → blocked', () => {
    expect(escalateStatus(null, 'suspected')).toBe('suspected');
    expect(escalateStatus('suspected', 'confirmed')).toBe('confirmed');
    expect(escalateStatus('confirmed', 'suspected')).toBe('confirmed');
    expect(escalateStatus('blocked', 'confirmed')).toBe('blocked');
    expect(escalateStatus('confirmed', null)).toBe('confirmed');
  });
});
