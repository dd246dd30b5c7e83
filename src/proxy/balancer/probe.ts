// One active health probe (Kong's healthchecks.active): an HTTP(S) GET of http_path with the target's Host
// (or the upstream's host_header) and the configured headers, or a bare TCP connect, within `timeout`.
// Answers the status, or what failed.
import type { Healthchecks } from "../../schemas/healthchecks.ts";
import type { AddressSpec } from "./addresses.ts";

type Active = Healthchecks["active"];

function hostHeader(address: AddressSpec, hostHeaderSetting: string | null, defaultPort: number): string {
  if (hostHeaderSetting !== null) return hostHeaderSetting;
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return address.port === defaultPort ? host : `${host}:${address.port}`;
}

function tcpProbe(address: AddressSpec, timeoutMs: number): Promise<"success" | "tcp_failure" | "timeout"> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: "success" | "tcp_failure" | "timeout", close?: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      close?.();
      resolve(result);
    };
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    Bun.connect({
      hostname: address.ip,
      port: address.port,
      socket: {
        open: (socket) => done("success", () => socket.end()),
        data() {},
        connectError: () => done("tcp_failure"),
        error: () => done("tcp_failure"),
      },
    }).catch(() => done("tcp_failure"));
  });
}

export async function probe(
  active: Active,
  address: AddressSpec,
  hostHeaderSetting: string | null,
): Promise<number | "tcp_failure" | "timeout"> {
  const timeoutMs = Math.max(1, active.timeout * 1000);
  // gRPC probes are not implemented: the connection is checked, as for tcp.
  if (active.type === "tcp" || active.type === "grpc" || active.type === "grpcs") {
    const result = await tcpProbe(address, timeoutMs);
    return result === "success" ? 200 : result;
  }
  const secure = active.type === "https";
  const headers = new Headers({ host: hostHeader(address, hostHeaderSetting, secure ? 443 : 80) });
  for (const [name, values] of Object.entries(active.headers ?? {}))
    for (const value of values) headers.append(name, value);
  if (!headers.has("user-agent")) headers.set("user-agent", "portico-health-check");
  const init: RequestInit & { tls?: unknown; decompress?: boolean } = {
    method: "GET",
    headers,
    redirect: "manual",
    decompress: false,
    signal: AbortSignal.timeout(timeoutMs),
  };
  if (secure)
    init.tls = {
      rejectUnauthorized: active.https_verify_certificate,
      serverName: active.https_sni ?? address.hostname,
    };
  try {
    const response = await fetch(`${active.type}://${address.ipPort}${active.http_path}`, init);
    await response.body?.cancel().catch(() => {});
    return response.status;
  } catch (error) {
    const name = (error as Error).name;
    return name === "TimeoutError" || name === "AbortError" ? "timeout" : "tcp_failure";
  }
}
