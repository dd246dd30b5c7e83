// The seed gateway library's service-management URLs (../shared/seeds/000_*.txt), on top of Kong entities:
//   POST /service    {domain, name_service, port} (JSON, form or the example's ?ip=&port=&name_service=)
//   DELETE /service  {name_service} or ?name_service=
//   PATCH /services  reload the configuration and probe every service
// They answer `true`/`false` like the library; a refusal carries its reason in X-Portico-Error.
import { GatewayError } from "../../errors.ts";
import { validateName } from "../../schemas/common.ts";
import type { AdminContext } from "../context.ts";
import { HttpError, json, readBody } from "./http.ts";
import type { AdminRouter } from "./router.ts";

const LEGACY_KINDS = {
  domain: { kind: "string" },
  ip: { kind: "string" },
  name_service: { kind: "string" },
  port: { kind: "number" },
} as const;

/** Tag on what POST /service creates, so it is recognisable in Kong listings. */
export const SERVICE_MANAGEMENT_TAG = "service-management";

class Refusal extends Error {
  readonly status: number;
  constructor(status: number, reason: string) {
    super(reason);
    this.status = status;
  }
}

function answer(ok: boolean, status: number, reason?: string): Response {
  if (ok) return json(true, status);
  // The reason may quote client input: escaped the same way in the log, so a name with CR/LF cannot
  // forge log lines any more than it can forge headers.
  const safe = headerSafe(reason ?? "refused");
  console.warn(`service management: refused (${status}): ${safe}`);
  return json(false, status, { "x-portico-error": safe });
}

/** Header values must be ASCII: escape anything else rather than drop the reason. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

async function readArguments(request: Request, url: URL): Promise<Record<string, unknown>> {
  const query: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  let body: Record<string, unknown> = {};
  try {
    body = await readBody(request, LEGACY_KINDS);
  } catch (error) {
    if (error instanceof HttpError) throw new Refusal(error.status, error.message);
    throw error;
  }
  return { ...query, ...body };
}

type Target = { protocol: "http" | "https"; host: string; path: string | null };

/** `domain` must name its protocol and must not carry a port; the example's bare `ip` means http://. */
function parseDomain(args: Record<string, unknown>): Target {
  let domain = args.domain;
  if (domain === undefined || domain === null || domain === "") {
    const ip = args.ip;
    if (typeof ip !== "string" || ip === "")
      throw new Refusal(400, "'domain' (or 'ip') is required, e.g. http://127.0.0.1");
    domain = /^[a-z][a-z0-9+.-]*:\/\//i.test(ip) ? ip : `http://${ip}`;
  }
  if (typeof domain !== "string") throw new Refusal(400, "'domain' must be a string");
  const match = /^([a-z][a-z0-9+.-]*):\/\/(\[[^\]]+\]|[^/:?#]*)(:[^/?#]*)?(\/[^?#]*)?$/i.exec(domain);
  if (!match)
    throw new Refusal(400, `'domain' must include the protocol, e.g. http://127.0.0.1 (got '${domain}')`);
  const protocol = match[1]!.toLowerCase();
  if (protocol !== "http" && protocol !== "https")
    throw new Refusal(400, `'domain' protocol must be http or https (got '${protocol}')`);
  if (match[3] !== undefined)
    throw new Refusal(400, `'domain' must not include a port; pass it as 'port' (got '${domain}')`);
  const host = match[2]!.startsWith("[") ? match[2]!.slice(1, -1) : match[2]!;
  if (host === "") throw new Refusal(400, `'domain' has no host (got '${domain}')`);
  const path = match[4] && match[4] !== "/" ? match[4] : null;
  return { protocol, host, path };
}

function parsePort(args: Record<string, unknown>, protocol: string): number {
  const raw = args.port;
  if (raw === undefined || raw === null || raw === "") return protocol === "https" ? 443 : 80;
  const port = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Refusal(400, `'port' must be an integer between 1 and 65535 (got '${String(raw)}')`);
  return port;
}

function parseName(args: Record<string, unknown>): string {
  const name = args.name_service;
  if (typeof name !== "string" || name === "") throw new Refusal(400, "'name_service' is required");
  const invalid = validateName(name);
  if (invalid) throw new Refusal(400, `'name_service': ${invalid}`);
  return name;
}

/** Runs a seed operation, turning every expected failure into `false` with its reason. */
async function seedAnswer(work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Refusal) return answer(false, error.status, error.message);
    if (error instanceof GatewayError) return answer(false, error.status, error.message);
    throw error;
  }
}

export function registerLegacyEndpoints(router: AdminRouter, context: AdminContext): void {
  const { store } = context;

  router.add("/service", {
    POST: (request, _params, url) =>
      seedAnswer(async () => {
        const args = await readArguments(request, url);
        const name = parseName(args);
        const target = parseDomain(args);
        const port = parsePort(args, target.protocol);
        // Service and route commit together: a refused route leaves no orphan service behind.
        await store.batch([
          {
            entity: "services",
            action: "insert",
            input: { name, ...target, port, tags: [SERVICE_MANAGEMENT_TAG] },
          },
          {
            entity: "routes",
            action: "insert",
            input: {
              name,
              paths: [`/${encodeURIComponent(name)}`],
              strip_path: true,
              service: { name },
              tags: [SERVICE_MANAGEMENT_TAG],
            },
          },
        ]);
        return answer(true, 201);
      }),
    DELETE: (request, _params, url) =>
      seedAnswer(async () => {
        const args = await readArguments(request, url);
        const name = parseName(args);
        const service = await store.entity("services").get(name);
        if (!service) throw new Refusal(404, `no service named '${name}'`);
        const route = await store.entity("routes").get(name, { service: service.id });
        const remaining = (await store.entity("routes").count({ service: service.id })) - (route ? 1 : 0);
        if (remaining > 0)
          throw new Refusal(
            409,
            `service '${name}' still has ${remaining} other route(s); delete them first`,
          );
        await store.batch([
          ...(route ? [{ entity: "routes" as const, action: "delete" as const, key: route.id }] : []),
          { entity: "services", action: "delete", key: service.id },
        ]);
        return answer(true, 200);
      }),
  });

  router.add("/services", {
    PATCH: async () => json(await context.refreshServices()),
  });
}
