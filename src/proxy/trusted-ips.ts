// Trusted proxies (Kong's `trusted_ips` and `real_ip_header`). A request whose peer is trusted (a load
// balancer in front of the gateway) keeps the X-Forwarded-* headers it sent and may name the real client
// address in the real-IP header; anyone else's X-Forwarded-* are replaced. Matching uses node:net's
// BlockList, so CIDR arithmetic for IPv4 and IPv6 is not written here.
import { BlockList, isIP } from "node:net";

/** Answers whether a peer address (as `server.requestIP` gives it) is a trusted proxy. */
export type TrustedIps = (address: string) => boolean;

/** A bad `--trusted-ips` entry; the message names it. */
export class TrustedIpsError extends Error {}

type Entry = { address: string; family: "ipv4" | "ipv6"; prefix: number };

function parseEntry(text: string): Entry {
  const [address = "", prefixText, extra] = text.split("/");
  const version = isIP(address);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (version === 0 || extra !== undefined || !/^\d{1,3}$/.test(prefixText ?? "0") || prefix > max)
    throw new TrustedIpsError(`'${text}' is not an IP address or CIDR range`);
  return { address, family: version === 4 ? "ipv4" : "ipv6", prefix };
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
  if (entries.length === 0) return null;
  const blocks = new BlockList();
  for (const { address, family, prefix } of entries) blocks.addSubnet(address, prefix, family);
  // An IPv4 peer on a dual-stack listener is reported as ::ffff:a.b.c.d.
  return (peer) => {
    const v4 = peer.startsWith("::ffff:") && isIP(peer.slice(7)) === 4 ? peer.slice(7) : null;
    if (v4 !== null) return blocks.check(v4, "ipv4");
    const version = isIP(peer);
    return version !== 0 && blocks.check(peer, version === 4 ? "ipv4" : "ipv6");
  };
}

/**
 * The client address a trusted proxy reports in `header` (nginx's realip without recursion: the last
 * address of a list), or null when the header is absent or not an address.
 */
export function realClientIp(headers: Headers, header: string): string | null {
  const value = headers.get(header);
  if (value === null) return null;
  const last = value.slice(value.lastIndexOf(",") + 1).trim();
  return isIP(last) !== 0 ? last : null;
}
