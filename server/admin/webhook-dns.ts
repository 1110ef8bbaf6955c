import { promises as dns } from 'node:dns';
import { addressProblem, hostAllowed, type AllowedHosts } from '../domain/webhook-target';

export type ResolvedAddress = { address: string; family: number };
/** Every address a host name resolves to (dns.lookup, as the HTTP client itself would resolve it). */
export type Lookup = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemLookup: Lookup = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** A webhook host that resolves to an address deliveries may not go to. */
export class WebhookTargetError extends Error {
  override readonly name = 'WebhookTargetError';
}

/**
 * Resolves a webhook's host and checks what it resolves to: every address must be public (a name
 * that answers one public and one private address is refused), unless the host or the address is
 * in WEBHOOK_ALLOWED_HOSTS. Returns the address to connect to: the delivery connects to exactly
 * the address checked here, so a second, different DNS answer (rebinding) never gets a connection.
 */
export async function resolveWebhookHost(hostname: string, allowed: AllowedHosts, lookup: Lookup = systemLookup): Promise<ResolvedAddress> {
  const addresses = await lookup(hostname);
  if (addresses.length === 0) throw new WebhookTargetError(`${hostname} has no address`);
  if (!hostAllowed(hostname, allowed)) {
    for (const a of addresses) {
      const problem = addressProblem(a.address, allowed);
      if (problem) throw new WebhookTargetError(`${hostname} resolves to ${problem}`);
    }
  }
  return addresses[0]!;
}
