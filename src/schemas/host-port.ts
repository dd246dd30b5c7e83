// Kong's reading of "host[:port]" (kong/tools/ip.lua normalize_ip / format_host), re-implemented: what kind of
// host a string names (ipv4 when only digits and dots, ipv6 when it has two or more colons, else a name), the
// normalised host and the port. Upstream names, targets and host_header are all validated with it.

export type HostKind = "ipv4" | "ipv6" | "name";

export type HostPort = { kind: HostKind; host: string; port: number | null };

/** The kind Kong infers from the characters alone (an invalid address is still "ipv4" or "ipv6"). */
export function hostKind(value: string): HostKind {
  const colons = value.split(":").length - 1;
  if (colons > 1) return "ipv6";
  if (/^[\d.]+$/.test(value.replaceAll(":", ""))) return "ipv4";
  return "name";
}

const PORT_LIMIT = 65535;

function parseIpv4(value: string): HostPort | string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::(\d+))?$/.exec(value);
  if (!m) return `invalid ipv4 address: ${value}`;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return `invalid ipv4 address: ${value}`;
  const port = m[5] === undefined ? null : Number(m[5]);
  if (port !== null && port > PORT_LIMIT) return "invalid port number";
  return { kind: "ipv4", host: octets.join("."), port };
}

/** Expands an IPv6 address to eight four-digit lower-case groups (Kong's normal form), or null. */
export function expandIpv6(address: string): string | null {
  let value = address;
  if (value.startsWith(":")) value = `0${value}`;
  if (value.endsWith(":")) value = `${value}0`;
  if (value.includes("::")) {
    const colons = value.split(":").length - 1;
    value = value.replace("::", `:${"0:".repeat(Math.max(0, 8 - colons))}`);
  }
  const groups = value.split(":");
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return groups.map((g) => g.toLowerCase().padStart(4, "0")).join(":");
}

function parseIpv6(value: string): HostPort | string {
  let address = value;
  let port: number | null = null;
  const bracketed = /^\[([^\]]*)\](.*)$/.exec(value);
  if (bracketed) {
    address = bracketed[1]!;
    if (bracketed[2] !== "") {
      const p = /^:(\d*)$/.exec(bracketed[2]!);
      if (!p) return "invalid ipv6 address";
      port = Number(p[1]);
      if (port > PORT_LIMIT) return "invalid port number";
    }
  }
  const expanded = expandIpv6(address);
  if (expanded === null) return `invalid ipv6 address: ${value}`;
  return { kind: "ipv6", host: expanded, port };
}

function parseName(value: string): HostPort | string {
  let name = value;
  let port: number | null = null;
  const p = /:(\d+)$/.exec(value);
  if (p) {
    name = value.slice(0, -(p[1]!.length + 1));
    port = Number(p[1]);
    if (port > PORT_LIMIT) return "invalid port number";
  }
  if (!/^[\dA-Za-z\-._]+$/.test(name)) return `invalid hostname: ${value}`;
  const segments = name.split(".");
  const bad = segments.some(
    (segment, i) => segment.endsWith("-") || (segment === "" && i !== segments.length - 1),
  );
  if (bad) return `invalid hostname: ${value}`;
  return { kind: "name", host: name, port };
}

/** Kong's normalize_ip: the parsed host and port, or Kong's error text. */
export function parseHostPort(value: string): HostPort | string {
  const kind = hostKind(value);
  if (kind === "ipv4") return parseIpv4(value);
  if (kind === "ipv6") return parseIpv6(value);
  return parseName(value);
}

/** Kong's format_host: IPv6 in brackets, `:port` when there is one (or `defaultPort` is given). */
export function formatHostPort(parsed: HostPort, defaultPort?: number): string {
  const host = parsed.kind === "ipv6" ? `[${parsed.host}]` : parsed.host;
  const port = parsed.port ?? defaultPort;
  return port === undefined ? host : `${host}:${port}`;
}
