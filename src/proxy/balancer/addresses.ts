// Targets as the balancers and the health checker see them: each target (host:port, weight) resolved to its
// addresses. A target naming an IP is its own address; a host name is resolved (A/AAAA) off the request path
// and re-resolved when its TTL runs out. Health is kept per address, keyed `<target>@<ip:port>`.
import { splitTarget } from "../../schemas/targets.ts";

export type TargetSpec = Readonly<{
  id: string;
  /** The stored target, `host:port` (normalised). */
  target: string;
  host: string;
  port: number;
  weight: number;
  /** The host is a name to resolve. */
  named: boolean;
}>;

export type AddressSpec = Readonly<{
  /** Health is kept under this key: `<target>@<ip:port>`. */
  key: string;
  targetId: string;
  target: string;
  /** The target's host name (or IP), for the Host header. */
  hostname: string;
  ip: string;
  port: number;
  /** `ip:port`, bracketed for IPv6: what URLs and Kong's per-address endpoints use. */
  ipPort: string;
  weight: number;
}>;

/** What one target resolved to: Kong's `dns` field is the record type, or the resolver's error. */
export type Resolution = Readonly<{ target: TargetSpec; dns: string; addresses: AddressSpec[]; ttl: number }>;

/** Resolved names are refreshed after their TTL, at least this often when the resolver gives none. */
export const DEFAULT_TTL_S = 30;
const MIN_TTL_S = 1;

export function targetSpec(target: { id: string; target: string; weight: number }): TargetSpec {
  const parsed = splitTarget(target.target);
  return {
    id: target.id,
    target: target.target,
    host: parsed.host,
    port: parsed.port,
    weight: target.weight,
    named: parsed.kind === "name",
  };
}

export function addressOf(target: TargetSpec, ip: string, family: 4 | 6): AddressSpec {
  const ipPort = family === 6 ? `[${ip}]:${target.port}` : `${ip}:${target.port}`;
  return {
    key: `${target.target}@${ipPort}`,
    targetId: target.id,
    target: target.target,
    hostname: target.host,
    ip,
    port: target.port,
    ipPort,
    weight: target.weight,
  };
}

/** A target that names an IP address is its own resolution (known at once, never refreshed). */
export function literalResolution(target: TargetSpec): Resolution {
  const v6 = target.host.includes(":");
  return {
    target,
    dns: v6 ? "AAAA" : "A",
    addresses: [addressOf(target, target.host, v6 ? 6 : 4)],
    ttl: Number.POSITIVE_INFINITY,
  };
}

/** Resolves a target; a name that does not resolve yields no address and the resolver's error as `dns`. */
export async function resolveTarget(target: TargetSpec): Promise<Resolution> {
  if (!target.named) return literalResolution(target);
  try {
    const found = await Bun.dns.lookup(target.host, {});
    const seen = new Set<string>();
    const addresses: AddressSpec[] = [];
    let ttl = Number.POSITIVE_INFINITY;
    for (const record of found) {
      if (seen.has(record.address)) continue;
      seen.add(record.address);
      addresses.push(addressOf(target, record.address, record.family === 6 ? 6 : 4));
      if (record.ttl > 0) ttl = Math.min(ttl, record.ttl);
    }
    const dns = found.every((r) => r.family === 6) ? "AAAA" : "A";
    return { target, dns, addresses, ttl: Math.max(MIN_TTL_S, Number.isFinite(ttl) ? ttl : DEFAULT_TTL_S) };
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    return { target, dns: `dns server error: ${message}`, addresses: [], ttl: DEFAULT_TTL_S };
  }
}

/** Resolves every target of an upstream; the soonest TTL among the names is when to do it again. */
export async function resolveAll(
  targets: readonly TargetSpec[],
): Promise<{ resolutions: Resolution[]; ttl: number }> {
  const resolutions = await Promise.all(targets.map(resolveTarget));
  const ttl = resolutions.reduce((t, r) => Math.min(t, r.ttl), Number.POSITIVE_INFINITY);
  return { resolutions, ttl };
}
