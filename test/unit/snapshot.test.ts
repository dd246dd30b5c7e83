import { describe, expect, test } from "bun:test";
import { buildSnapshot } from "../../src/proxy/snapshot.ts";
import { type Route, routeSchema } from "../../src/schemas/routes.ts";
import { type Service, serviceSchema } from "../../src/schemas/services.ts";

let n = 0;
const id = () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;

function service(input: Record<string, unknown>): Service {
  return { ...serviceSchema().parse(input), id: id(), created_at: 1, updated_at: 1 } as Service;
}

function route(input: Record<string, unknown>, svc: Service | null): Route {
  return {
    ...routeSchema().parse(input),
    id: id(),
    created_at: 1,
    updated_at: 1,
    service: svc ? { id: svc.id } : null,
  } as Route;
}

function upstreamFor(svc: Service) {
  const snap = buildSnapshot({ version: 1, services: [svc], routes: [route({ paths: ["/"] }, svc)] });
  const match = snap.router.match({
    method: "GET",
    host: "h",
    port: 8000,
    path: "/",
    headers: new Headers(),
    sni: null,
  });
  return match?.value.upstream;
}

describe("snapshot", () => {
  test("upstream origin and Host: the port only when it is not the scheme's default", () => {
    expect(upstreamFor(service({ url: "http://api.test" }))).toMatchObject({
      origin: "http://api.test:80",
      hostHeader: "api.test",
      basePath: "/",
      wsOrigin: "ws://api.test:80",
    });
    expect(upstreamFor(service({ url: "http://api.test:8080/v1" }))).toMatchObject({
      origin: "http://api.test:8080",
      hostHeader: "api.test:8080",
      basePath: "/v1",
    });
    expect(upstreamFor(service({ url: "https://api.test" }))).toMatchObject({
      origin: "https://api.test:443",
      hostHeader: "api.test",
      wsOrigin: "wss://api.test:443",
      tls: { rejectUnauthorized: false },
    });
    expect(upstreamFor(service({ protocol: "https", host: "api.test", port: 80 }))?.hostHeader).toBe(
      "api.test:80",
    );
  });

  test("timeouts and retries come from the service", () => {
    expect(
      upstreamFor(
        service({ url: "http://a.test", retries: 2, connect_timeout: 1, write_timeout: 2, read_timeout: 3 }),
      ),
    ).toMatchObject({ retries: 2, connectTimeout: 1, writeTimeout: 2, readTimeout: 3 });
  });

  test("routes of disabled services are left out; routes without a service stay (503)", () => {
    const off = service({ url: "http://off.test", enabled: false });
    const snap = buildSnapshot({
      version: 2,
      services: [off],
      routes: [route({ paths: ["/off"] }, off), route({ paths: ["/none"] }, null)],
    });
    expect(snap.router.size).toBe(1);
    const facts = { method: "GET", host: "h", port: 8000, headers: new Headers(), sni: null };
    expect(snap.router.match({ ...facts, path: "/off" })).toBeNull();
    expect(snap.router.match({ ...facts, path: "/none" })?.value.upstream).toBeNull();
  });

  test("a route whose regex cannot compile is left out and reported; the other routes are served", () => {
    const bad = { ...route({ name: "bad", paths: ["~/ok"] }, null), paths: ["~/(unclosed"] };
    const good = route({ name: "good", paths: ["/good"] }, null);
    const snap = buildSnapshot({ version: 3, services: [], routes: [bad, good] });
    expect(snap.faults).toEqual([
      {
        entity: "routes",
        id: bad.id,
        name: "bad",
        message: "Invalid regular expression: missing )",
      },
    ]);
    const facts = { method: "GET", host: "h", port: 8000, headers: new Headers(), sni: null };
    expect(snap.router.match({ ...facts, path: "/good" })?.value.name).toBe("good");
    expect(snap.router.match({ ...facts, path: "/(unclosed" })).toBeNull();
  });

  test("a header regex is compiled by the router's own compiler, and a bad one is a fault, not a crash", () => {
    const bad = { ...route({ name: "hdr", paths: ["/h"] }, null), headers: { "x-v": ["~*("] } };
    const snap = buildSnapshot({ version: 4, services: [], routes: [bad] });
    expect(snap.faults.map((f) => [f.entity, f.name])).toEqual([["routes", "hdr"]]);
  });
});
