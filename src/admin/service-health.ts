// Checks that services answer (the seed library's refresh, GraphQL's refreshServices): a request to each
// service's base URL with a short timeout. Any HTTP answer means up; refused, timeout, DNS failure: down.
// A service balanced over an upstream is probed at every address of its targets instead, and each target
// also carries the node's health checker's verdict.
import type { Service } from "../schemas/services.ts";
import {
  type TargetHealthWord,
  targetHealthWord,
  type UpstreamHealthView,
} from "../schemas/upstream-health.ts";

/** One address of a balanced service's target: probed now, with the health checker's word for its target. */
export type TargetProbe = {
  target: string;
  address: string;
  up: boolean;
  status: number | null;
  error: string | null;
  health: TargetHealthWord;
};

export type ServiceHealth = {
  id: string;
  name: string | null;
  url: string;
  up: boolean;
  status: number | null;
  error: string | null;
  latency_ms: number;
  /** Balanced services only: each address of each target (weight 0 left out). */
  targets?: TargetProbe[];
};

export const PROBE_TIMEOUT_MS = 2000;

export function serviceUrl(service: Pick<Service, "protocol" | "host" | "port" | "path">): string {
  const host = service.host.includes(":") ? `[${service.host}]` : service.host;
  const defaultPort = (service.protocol === "https" ? 443 : 80) === service.port;
  return `${service.protocol}://${host}${defaultPort ? "" : `:${service.port}`}${service.path ?? "/"}`;
}

/** GET `url`: the status, or why there was none. */
async function probe(
  url: string,
  timeoutMs: number,
  host: string | null,
): Promise<{ status: number | null; error: string | null }> {
  const headers: Record<string, string> = { "user-agent": "portico-health-probe" };
  if (host !== null) headers.host = host;
  try {
    const response = await fetch(url, {
      method: "GET",
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      headers,
    });
    await response.body?.cancel();
    return { status: response.status, error: null };
  } catch (error) {
    const err = error as Error & { code?: string };
    return { status: null, error: err.name === "TimeoutError" ? "timeout" : (err.code ?? err.message) };
  }
}

export async function probeService(
  service: Service,
  timeoutMs = PROBE_TIMEOUT_MS,
  balanced: UpstreamHealthView | null = null,
): Promise<ServiceHealth> {
  const url = serviceUrl(service);
  const started = performance.now();
  const limit = Math.min(timeoutMs, service.connect_timeout + service.read_timeout);
  const latency = () => Math.round((performance.now() - started) * 10) / 10;
  const base = { id: service.id, name: service.name, url };
  if (balanced === null) {
    const { status, error } = await probe(url, limit, null);
    return { ...base, up: status !== null, status, error, latency_ms: latency() };
  }
  const targets = await Promise.all(
    balanced.targets
      .filter((target) => target.weight > 0)
      .flatMap((target) =>
        target.addresses.map(async (a): Promise<TargetProbe> => {
          const address = a.ip.includes(":") ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
          const { status, error } = await probe(
            `${service.protocol}://${address}${service.path ?? "/"}`,
            limit,
            `${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`,
          );
          return {
            target: target.target,
            address,
            up: status !== null,
            status,
            error,
            health: targetHealthWord(balanced, target),
          };
        }),
      ),
  );
  const up = targets.find((t) => t.up);
  return {
    ...base,
    up: up !== undefined,
    status: up?.status ?? null,
    error: up !== undefined ? null : (targets[0]?.error ?? "no target"),
    latency_ms: latency(),
    targets,
  };
}

/**
 * Probes every enabled service concurrently, answers in the services' order; `balancedBy` names the upstream
 * health of a service whose host is an upstream's name.
 */
export function probeServices(
  services: readonly Service[],
  balancedBy: (service: Service) => UpstreamHealthView | null = () => null,
): Promise<ServiceHealth[]> {
  return Promise.all(
    services.filter((s) => s.enabled).map((s) => probeService(s, PROBE_TIMEOUT_MS, balancedBy(s))),
  );
}
