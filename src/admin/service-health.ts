// Checks that services answer (the seed library's refresh, GraphQL's refreshServices): a request to each
// service's base URL with a short timeout. Any HTTP answer means up; refused, timeout, DNS failure: down.
import type { Service } from "../schemas/services.ts";

export type ServiceHealth = {
  id: string;
  name: string | null;
  url: string;
  up: boolean;
  status: number | null;
  error: string | null;
  latency_ms: number;
};

export const PROBE_TIMEOUT_MS = 2000;

export function serviceUrl(service: Pick<Service, "protocol" | "host" | "port" | "path">): string {
  const host = service.host.includes(":") ? `[${service.host}]` : service.host;
  const defaultPort = (service.protocol === "https" ? 443 : 80) === service.port;
  return `${service.protocol}://${host}${defaultPort ? "" : `:${service.port}`}${service.path ?? "/"}`;
}

export async function probeService(service: Service, timeoutMs = PROBE_TIMEOUT_MS): Promise<ServiceHealth> {
  const url = serviceUrl(service);
  const started = performance.now();
  const result = (up: boolean, status: number | null, error: string | null): ServiceHealth => ({
    id: service.id,
    name: service.name,
    url,
    up,
    status,
    error,
    latency_ms: Math.round((performance.now() - started) * 10) / 10,
  });
  try {
    const response = await fetch(url, {
      method: "GET",
      redirect: "manual",
      signal: AbortSignal.timeout(Math.min(timeoutMs, service.connect_timeout + service.read_timeout)),
      headers: { "user-agent": "portico-health-probe" },
    });
    await response.body?.cancel();
    return result(true, response.status, null);
  } catch (error) {
    const err = error as Error & { code?: string };
    const reason = err.name === "TimeoutError" ? "timeout" : (err.code ?? err.message);
    return result(false, null, reason);
  }
}

/** Probes every enabled service concurrently, answers in the services' order. */
export function probeServices(services: readonly Service[]): Promise<ServiceHealth[]> {
  return Promise.all(services.filter((s) => s.enabled).map((s) => probeService(s)));
}
