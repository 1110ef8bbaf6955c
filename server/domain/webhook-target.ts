import ipaddr from 'ipaddr.js';

// Where a webhook may point (API.md, Webhook integration): http or https to a public address.
// Loopback, private, link-local (the cloud metadata service among them), unique-local and every
// other special-purpose range is refused, unless the host or address is listed in
// WEBHOOK_ALLOWED_HOSTS (for demos and tests). The URL parser has already turned numeric forms
// (0x7f000001, 2130706433, 0177.0.0.1) into dotted addresses by the time these checks run.

/** Hosts and addresses listed in WEBHOOK_ALLOWED_HOSTS, lower-cased, IPv6 without brackets. */
export type AllowedHosts = ReadonlySet<string>;

export function parseAllowedHosts(list: string): AllowedHosts {
  return new Set(list.split(',').map((h) => h.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')).filter(Boolean));
}

const bare = (hostname: string) => hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');

/** The range an address falls in ("unicast" is a public address), IPv4-mapped IPv6 read as IPv4. */
function rangeOf(address: string): string {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range();
}

/** Why a resolved (or literal) address may not be delivered to, or undefined when it may. */
export function addressProblem(address: string, allowed: AllowedHosts): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  if (allowed.has(bare(address))) return undefined;
  const range = rangeOf(address);
  return range === 'unicast' ? undefined : `${address} is a ${range} address, not a public one`;
}

/**
 * Why a webhook URL is refused on its face (scheme, credentials, a literal non-public address,
 * localhost), or undefined. A host name still has to resolve to public addresses: `addressProblem`
 * on each, when the institution is saved and again when a delivery connects.
 */
export function urlProblem(url: string, allowed: AllowedHosts): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an http or https URL';
  if (u.username || u.password) return 'must not carry credentials';
  const host = bare(u.hostname);
  if (allowed.has(host)) return undefined;
  if (ipaddr.isValid(host)) {
    const problem = addressProblem(host, allowed);
    return problem && `must point to a public address: ${problem}`;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return 'must point to a public address, not localhost';
  return undefined;
}

/** Whether a host name is listed as allowed whatever it resolves to. */
export const hostAllowed = (hostname: string, allowed: AllowedHosts): boolean => allowed.has(bare(hostname));
