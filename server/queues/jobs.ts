import { z } from 'zod';

/** Job data carries ids only: no personal data ever sits in Redis. */
export const TaskJob = z.object({ taskId: z.uuid() });
export type TaskJob = z.infer<typeof TaskJob>;
