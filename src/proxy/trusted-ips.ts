// Trusted proxies (Kong's `trusted_ips` and `real_ip_header`). A request whose peer is trusted (a load
// balancer in front of the gateway) keeps the X-Forwarded-* headers it sent and may name the real client
// address in the real-IP header; anyone else's X-Forwarded-* are replaced.
import { type IpRange, ipMatcher, isIpAddress, parseIpRange } from "./ip-ranges.ts";

/** Answers whether a peer address (as `server.requestIP` gives it) is a trusted proxy. */
export type TrustedIps = (address: string) => boolean;

/** A bad `--trusted-ips` entry; the message names it. */
export class TrustedIpsError extends Error {}

function parseEntry(text: string): IpRange {
  const range = parseIpRange(text);
  if (range === null) throw new TrustedIpsError(`'${text}' is not an IP address or CIDR range`);
  return range;
}

/**
 * Compiles a comma-separated list of addresses and CIDR ranges (`10.0.0.0/8,::1`); an empty list trusts
 * nobody (null). Throws TrustedIpsError for an entry that is neither.
 */
export function compileTrustedIps(list: string): TrustedIps | null {
  const entries = list
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map(parseEntry);
  return entries.length === 0 ? null : ipMatcher(entries);
}

/**
 * The client address a trusted proxy reports in `header` (nginx's realip without recursion: the last
 * address of a list), or null when the header is absent or not an address.
 */
export function realClientIp(headers: Headers, header: string): string | null {
  const value = headers.get(header);
  if (value === null) return null;
  const last = value.slice(value.lastIndexOf(",") + 1).trim();
  return isIpAddress(last) ? last : null;
}
