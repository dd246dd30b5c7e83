// IP addresses and CIDR ranges (v4 and v6), parsed once and matched through node:net's BlockList, so no
// CIDR arithmetic is written here. Used by --trusted-ips and by the ip-restriction plugin. node:net is
// loaded on first use, not imported: a static import is evaluated at every start-up (about 3 ms of CPU)
// even by a gateway that never matches an address.

let netModule: typeof import("node:net") | undefined;
const net = () => (netModule ??= process.getBuiltinModule("node:net"));

/** Whether `text` is one IPv4 or IPv6 address (not a range). */
export function isIpAddress(text: string): boolean {
  return net().isIP(text) !== 0;
}

export type IpRange = { address: string; family: "ipv4" | "ipv6"; prefix: number };

/** An address (`10.0.0.1`, `::1`) or a range (`10.0.0.0/8`, `2001:db8::/32`); null when it is neither. */
export function parseIpRange(text: string): IpRange | null {
  const [address = "", prefixText, extra] = text.split("/");
  const version = net().isIP(address);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (version === 0 || extra !== undefined || !/^\d{1,3}$/.test(prefixText ?? "0") || prefix > max)
    return null;
  return { address, family: version === 4 ? "ipv4" : "ipv6", prefix };
}

/** An IPv4 peer on a dual-stack listener is reported as ::ffff:a.b.c.d; this gives a.b.c.d back. */
export function unmapIpv4(address: string): string {
  return address.startsWith("::ffff:") && net().isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Whether an address (as `server.requestIP` or a real-IP header gives it) falls in any of the ranges. */
export function ipMatcher(ranges: readonly IpRange[]): (address: string) => boolean {
  const { BlockList, isIP } = net();
  const blocks = new BlockList();
  for (const { address, family, prefix } of ranges) blocks.addSubnet(address, prefix, family);
  return (peer) => {
    const address = unmapIpv4(peer);
    const version = isIP(address);
    return version !== 0 && blocks.check(address, version === 4 ? "ipv4" : "ipv6");
  };
}
