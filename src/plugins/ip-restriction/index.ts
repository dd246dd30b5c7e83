// ip-restriction: allow or deny clients by address (kong/plugins/ip-restriction/handler.lua). The address is
// the client's as the proxy established it — the peer's, or the one a trusted load balancer reported
// (--trusted-ips) — so a client cannot talk its way past the list with its own X-Forwarded-For. Deny is
// checked first; with an allow list, everyone not on it is refused.
import { ipMatcher, parseIpRange, unmapIpv4 } from "../../proxy/ip-ranges.ts";
import type { PluginDescriptor } from "../contract.ts";
import { type IpRestrictionConfig, ipRestrictionConfig } from "./schema.ts";

const matcher = (list: string[] | null) =>
  list === null || list.length === 0 ? null : ipMatcher(list.map((entry) => parseIpRange(entry)!));

export const ipRestriction: PluginDescriptor<IpRestrictionConfig> = {
  name: "ip-restriction",
  priority: 990,
  version: "1.0.0",
  get config() {
    return ipRestrictionConfig();
  },
  scoping: { consumer: true, route: true, service: true },
  compile(config) {
    const deny = matcher(config.deny);
    const allow = matcher(config.allow);
    const status = config.status ?? 403;
    return {
      access(ctx) {
        const ip = ctx.clientIp;
        if (deny?.(ip) || (allow !== null && !allow(ip)))
          return ctx.respond(status, config.message ?? `IP address not allowed: ${unmapIpv4(ip)}`);
        return undefined;
      },
    };
  },
};
