import { describe, expect, test } from "bun:test";
import { compileRouter } from "../../src/proxy/router.ts";
import { normalizePath } from "../../src/schemas/normalize-path.ts";
import { type Route, routeSchema } from "../../src/schemas/routes.ts";
import { ROUTING_CASES } from "./routing-cases.ts";

const PORT = 8000;

function toRoutes(routes: (typeof ROUTING_CASES)[number]["routes"]): Route[] {
  return routes.map(({ name, ...fields }, i) => {
    const parsed = routeSchema().parse({
      name,
      ...fields,
      hosts: fields.hosts?.map((h) => h.replace("{port}", String(PORT))),
    });
    return {
      ...parsed,
      id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      created_at: 1_700_000_000 + i,
      updated_at: 1_700_000_000 + i,
      service: null,
    } as Route;
  });
}

describe("router: shared routing cases", () => {
  for (const c of ROUTING_CASES) {
    test(c.name, () => {
      const routes = toRoutes(c.routes);
      const router = compileRouter(routes.map((route) => ({ route, value: route.name })));
      for (const r of c.requests) {
        const match = router.match({
          method: r.method ?? "GET",
          host: (r.host ?? "localhost").replace(/:\d+$/, "").toLowerCase(),
          port: PORT,
          path: normalizePath(r.path),
          headers: new Headers(r.headers),
          sni: null,
        });
        const label = `${r.method ?? "GET"} ${r.host ?? ""}${r.path}`;
        expect({ label, got: match?.value ?? null }).toEqual({ label, got: r.expect });
        if (r.matched !== undefined)
          expect({ label, matched: match?.matched }).toEqual({ label, matched: r.matched });
      }
    });
  }
});

describe("router: scale", () => {
  // How long the build takes is measured in bench/ (never in a timed test: a loaded machine would fail it).
  test("10,000 prefix routes compile and each request finds its own", () => {
    const base = routeSchema().parse({ paths: ["/x"] });
    const routes: Route[] = Array.from({ length: 10_000 }, (_, i) => ({
      ...base,
      paths: [`/r${i}`],
      name: `r${i}`,
      id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      created_at: 1,
      updated_at: 1,
      service: null,
    }));
    const router = compileRouter(routes.map((route) => ({ route, value: route.name })));
    expect(router.size).toBe(10_000);
    const facts = {
      method: "GET",
      host: "h",
      port: PORT,
      path: "/r9999/x",
      headers: new Headers(),
      sni: null,
    };
    expect(router.match(facts)?.value).toBe("r9999");
    expect(router.match({ ...facts, path: "/r1/x" })?.value).toBe("r1");
    expect(router.match({ ...facts, path: "/nope" })).toBeNull();
  });
});

describe("router: regex captures (Kong's uri_captures)", () => {
  const base = routeSchema().parse({ paths: ["/x"] });
  const route = (name: string, paths: string[], i: number): Route => ({
    ...base,
    paths,
    name,
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    created_at: 1 + i,
    updated_at: 1,
    service: null,
  });
  const router = compileRouter(
    [
      route("named", ["~/users/(?<user>\\w+)/items/(?P<item>\\d+)"], 0),
      route("numbered", ["~/files/(\\w+)\\.(\\w+)$"], 1),
      route("plain-regex", ["~/plain/\\d+"], 2),
      route("prefix", ["/prefix"], 3),
    ].map((r) => ({ route: r, value: r.name })),
  );
  const at = (path: string) =>
    router.match({ method: "GET", host: "h", port: PORT, path, headers: new Headers(), sni: null });

  test("named groups (both (?<n>) and Kong's (?P<n>)) and the whole match", () => {
    const m = at("/users/ann/items/42/rest");
    expect(m?.value).toBe("named");
    expect(m?.captures?.[0]).toBe("/users/ann/items/42");
    expect(m?.captures?.groups).toEqual({ user: "ann", item: "42" });
    expect([m?.captures?.[1], m?.captures?.[2]]).toEqual(["ann", "42"]);
  });

  test("numbered groups", () => {
    const m = at("/files/report.pdf");
    expect(m?.value).toBe("numbered");
    expect([...(m?.captures ?? [])]).toEqual(["/files/report.pdf", "report", "pdf"]);
  });

  test("a regex without groups and a prefix path have no captures", () => {
    expect(at("/plain/7")?.captures).toBeNull();
    expect(at("/prefix/a")?.captures).toBeNull();
  });
});
