import type { Config } from '../config';
import { formatMinor } from '../domain/money';
import { isMoneyTask } from '../domain/task-kinds';
import { translator } from '../i18n/i18n';
import { formatDateTime } from '../pages/format';
import type { Task } from './tasks.repo';

/**
 * A money task as the center's written request to the bank: the reference (case number), the
 * account, the amount, the legal basis and the due time. It is the center's own document, so it
 * is in the center's language (CENTER_LANGUAGE) whatever the language of the page around it.
 * Labels are translated here, since the page's own translations follow the reader.
 */
export function presentPrintRequest(task: Task, institutionName: string, config: Config, now = new Date()) {
  if (!isMoneyTask(task.kind)) return null;
  const lang = config.centerLanguage;
  const t = translator(lang);
  const currency = task.currency ?? config.defaultCurrency;
  const rows = [
    { label: t('request.caseNumber'), value: task.caseNumber ?? t('request.noCase') },
    { label: t('request.institution'), value: institutionName },
    { label: t('request.account'), value: task.target.value, code: true },
    ...(task.target.name ? [{ label: t('request.accountName'), value: task.target.name }] : []),
    ...(task.amountMinor !== null ? [{ label: t('request.amount'), value: formatMinor(task.amountMinor, currency, lang) }] : []),
    ...(task.transferredAt ? [{ label: t('request.transferredAt'), value: formatDateTime(task.transferredAt, lang, config.timeZone) }] : []),
    { label: t('request.due'), value: formatDateTime(task.dueAt, lang, config.timeZone) },
    { label: t('request.taskId'), value: task.id, code: true },
  ];
  return {
    lang,
    center: t('app.name'),
    title: t('request.title', { kind: t(`taskKind.${task.kind}`, { defaultValue: task.kind }) }),
    rows,
    legalBasisLabel: t('request.legalBasis'),
    legalBasis: config.legalBasis[lang],
    issued: t('request.issued', { at: formatDateTime(now.toISOString(), lang, config.timeZone) }),
    signature: t('request.signature'),
  };
}
