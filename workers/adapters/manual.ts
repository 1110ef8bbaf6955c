import type { Adapter } from './adapter';

/**
 * A manual institution's liaisons work their inbox in the center: marking the task `dispatched`
 * (which the processor does after this) is the delivery.
 */
export const manualAdapter: Adapter = {
  async deliver() {
    // nothing leaves the building
  },
};
