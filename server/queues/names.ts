/** One queue per partner institution, so each has its own backlog, rate limit, pause and metrics. */
export const partnerQueueName = (institutionId: string): string => `partner-${institutionId}`;
export const FEEDS_QUEUE = 'feeds';
export const MAINTENANCE_QUEUE = 'maintenance';
