import type { Actor } from '../auth/actor';
import type { ServiceContext } from '../context';
import { ForbiddenError, NotFoundError } from '../errors';
import { countUnread, listEscalations, markAllRead, markRead, markTaskRead, type EscalationRow } from './escalations.repo';

/** Who is told when a task runs past its due time, and keeps track of what they have seen. */
export const ESCALATION_ROLES = new Set(['supervisor']);

/**
 * Overdue escalations as the supervisors' notifications: each supervisor has their own unread
 * count, lowered by opening an escalation, acknowledging it, or marking everything read.
 */
export class EscalationsService {
  constructor(private readonly ctx: ServiceContext) {}

  private person(actor: Actor): string {
    if (actor.type !== 'user' || !ESCALATION_ROLES.has(actor.role)) throw new ForbiddenError();
    return actor.id;
  }

  unreadCount(actor: Actor): Promise<number> {
    return countUnread(this.ctx.readDb, this.person(actor));
  }

  list(actor: Actor, opts: { limit: number; before?: string; unreadOnly?: boolean }): Promise<EscalationRow[]> {
    return listEscalations(this.ctx.db, this.person(actor), opts);
  }

  /** Marks one read (opened or acknowledged); returns its task. */
  async read(actor: Actor, escalationId: string): Promise<string> {
    const taskId = await markRead(this.ctx.db, this.person(actor), escalationId);
    if (!taskId) throw new NotFoundError('No such escalation.');
    return taskId;
  }

  /** The task's page seen by a supervisor: its escalations are read for them. */
  readTask(actor: Actor, taskId: string): Promise<void> {
    return markTaskRead(this.ctx.db, this.person(actor), taskId);
  }

  readAll(actor: Actor): Promise<void> {
    return markAllRead(this.ctx.db, this.person(actor));
  }
}
