// Black-box: the shared routing case table (test/unit/routing-cases.ts) through the real gateway, configured
// through the admin REST API. Each route gets its own service whose path names the route, so the upstream
// path tells which route matched and what was stripped.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { ROUTING_CASES } from "../unit/routing-cases.ts";
import { admin, startUpstream, type Upstream } from "./helpers.ts";

let tg: TestGateway;
let up: Upstream;
let proxyPort: string;

beforeAll(async () => {
  tg = await startTestGateway();
  proxyPort = new URL(tg.proxyUrl).port;
  up = startUpstream();
});

afterAll(async () => {
  await tg.stop();
  await up.stop();
});

describe("routing cases through the gateway", () => {
  ROUTING_CASES.forEach((c, index) => {
    if (c.unitOnly) return;
    test(c.name, async () => {
      const created: { service: string; route: string }[] = [];
      for (const { name, ...fields } of c.routes) {
        const service = await admin(tg, "POST", "/services", {
          name: `c${index}-${name}`,
          url: `${up.url}/@${name}`,
        });
        const route = await admin(tg, "POST", `/services/${service.id}/routes`, {
          ...fields,
          hosts: fields.hosts?.map((h) => h.replace("{port}", proxyPort)),
        });
        created.push({ service: service.id, route: route.id });
      }
      await tg.gateway.synced();
      try {
        for (const r of c.requests) {
          const before = up.received.length;
          const res = await fetch(tg.proxyUrl + r.path, {
            method: r.method ?? "GET",
            headers: { ...(r.host ? { host: r.host } : {}), ...r.headers },
          });
          await res.arrayBuffer();
          const label = `${r.method ?? "GET"} ${r.host ?? ""}${r.path}`;
          if (r.expect === null) {
            expect({ label, status: res.status }).toEqual({ label, status: 404 });
            expect(up.received.length).toBe(before);
            continue;
          }
          expect({ label, status: res.status }).toEqual({ label, status: 200 });
          const target = up.received.at(-1)!.target;
          const matchedRoute = /^\/@([^/?]+)/.exec(target)?.[1];
          expect({ label, route: matchedRoute }).toEqual({ label, route: r.expect });
          if (r.matched !== undefined && r.method !== "HEAD") {
            const forwarded = up.received.at(-1)!.headers["x-forwarded-prefix"];
            expect({ label, prefix: forwarded ?? "" }).toEqual({
              label,
              prefix: r.matched === "/" ? "" : r.matched,
            });
          }
        }
      } finally {
        for (const { service, route } of created) {
          await admin(tg, "DELETE", `/routes/${route}`);
          await admin(tg, "DELETE", `/services/${service}`);
        }
      }
    });
  });
});
