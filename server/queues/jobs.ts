import { z } from 'zod';

/** Job data carries ids only: no personal data ever sits in Redis. */
export const TaskJob = z.object({
  taskId: z.uuid(),
  /** One delivery, no retries: asks whether an institution whose deliveries ran out answers again. */
  probe: z.literal(true).optional(),
});
export type TaskJob = z.infer<typeof TaskJob>;
