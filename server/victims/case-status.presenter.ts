import { formatMinor } from '../domain/money';
import { translator, LANGUAGES } from '../i18n/i18n';
import { formatDateTime } from '../pages/format';
import type { PageLocals } from '../pages/shell';
import type { CaseStatus } from './case-status.schemas';

/** The status as a victim reads it: the stage in words and the amounts; nothing names anyone. */
export function presentCaseStatus(s: CaseStatus, l: PageLocals) {
  const money = (m: number) => formatMinor(m, s.currency, l.lang);
  return {
    caseNumber: s.caseNumber,
    stage: s.stage,
    stageText: l.t(`caseStatus.stage.${s.stage}`),
    filedAt: formatDateTime(s.filedAt, l.lang, l.timeZone),
    figures: [
      { id: 'reported', label: l.t('caseStatus.reportedLoss'), value: money(s.reportedLossMinor) },
      { id: 'frozen', label: l.t('caseStatus.frozen'), value: money(s.frozenMinor) },
      { id: 'returned', label: l.t('caseStatus.returned'), value: money(s.returnedMinor) },
    ],
  };
}

/**
 * The receipt for the victim, in every language the center speaks (the victim may read another than
 * the officer's), whatever the page's own language.
 */
export function presentReceipt(
  r: { id: string; caseNumber: string; filedAt: string; accessCode: string | null }, statusUrl: string, timeZone: string,
) {
  return {
    reportId: r.id,
    caseNumber: r.caseNumber,
    code: r.accessCode,
    statusUrl,
    copies: LANGUAGES.map((lang) => {
      const t = translator(lang);
      return {
        lang,
        heading: t('receipt.heading'),
        caseNumberLabel: t('receipt.caseNumber'),
        accessCodeLabel: t('receipt.accessCode'),
        filedAtLabel: t('receipt.filedAt'),
        filedAt: formatDateTime(r.filedAt, lang, timeZone),
        whereToCheck: t('receipt.whereToCheck', { url: statusUrl }),
        keepPrivate: t('receipt.keepPrivate'),
      };
    }),
  };
}
