import type { Deps } from '../wiring';
import { isPartnerSide, type Actor } from '../auth/actor';
import type { PageLocals } from '../pages/shell';
import { presentReportHold, type HoldFormState } from './holds.presenter';

const LIST_LIMIT = 200;

/** The holds of a report with their returns, disputes and split proposals, as the report page shows them. */
export async function loadReportHolds(deps: Deps, actor: Actor, reportId: string, l: PageLocals, form?: HoldFormState) {
  const { holds, admin } = deps.services;
  const [page, institutions] = await Promise.all([holds.list(actor, { reportId, limit: LIST_LIMIT }), admin.listInstitutions()]);
  const names = new Map(institutions.items.map((i) => [i.id, i.name]));
  const now = new Date();
  const details = await Promise.all(page.items.map(async (h) => {
    const [detail, split] = await Promise.all([
      holds.get(actor, h.id),
      h.status === 'active' && h.availableMinor > 0 && !isPartnerSide(actor) ? holds.split(actor, h.id) : Promise.resolve(null),
    ]);
    return presentReportHold(detail, split, names.get(h.institutionId) ?? h.institutionId, l, now, form);
  }));
  return { holds: details, anyHolds: details.length > 0 };
}

/** Officers and supervisors act on held money; desk officers may also open a dispute (API.md, the role table). */
export function holdPermissions(actor: Pick<Actor, 'role'>) {
  return { actsOnHolds: actor.role === 'desk_officer' || actor.role === 'supervisor', opensDisputes: actor.role === 'desk_officer' || actor.role === 'liaison' };
}

