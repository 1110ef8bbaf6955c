import type { PageLocals } from '../pages/shell';
import { formatDateTimeSeconds } from '../pages/format';
import type { AuditEvent } from './events.repo';

/** An audit timeline as the pages show it: in the order given (the events' sequence), times to the second. */
export function presentTimeline(events: AuditEvent[], l: PageLocals) {
  return events.map((e) => ({
    type: e.type,
    at: formatDateTimeSeconds(e.occurredAt, l.lang, l.timeZone),
    iso: e.occurredAt,
    actor: e.actor.name ?? e.actor.type,
    institutionId: typeof e.data.institutionId === 'string' ? e.data.institutionId : '',
    outcome: typeof e.data.outcome === 'string' ? e.data.outcome : '',
  }));
}
