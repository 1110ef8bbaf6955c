import type { InstitutionWithSecret } from '../../server/admin/institutions.repo';
import type { Integration } from '../../server/domain/kinds';
import type { Task } from '../../server/tasks/tasks.repo';

/**
 * Hands a task to its institution. Throwing means "not delivered": the job is retried with
 * backoff (or, for an UnrecoverableError, fails at once) and the task stays queued.
 */
export type Adapter = {
  deliver(task: Task, institution: InstitutionWithSecret): Promise<void>;
};

/** Chosen by the institution's integration, never by its name. */
export type Adapters = Record<Integration, Adapter>;
