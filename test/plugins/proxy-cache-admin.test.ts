// Black-box: Kong's /proxy-cache admin endpoints on a real gateway with one proxy worker and with two (each
// worker keeps its own memory, so the admin must reach all of them), against a real upstream that numbers
// its answers: GET shows the entry Kong's way, DELETE by key / by plugin and key / everything makes the next
// request a Miss (and no worker serves the purged answer again), unknown keys and plugins are 404 with no
// body, a plugin id that is no UUID is Kong's invalid-primary-key error, other methods 405. GraphQL's
// proxyCacheEntry / purgeProxyCache / purgeProxyCaches agree with REST.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gql, gqlData, onlyError } from "../graphql/support.ts";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { admin, startUpstream, type Upstream } from "../proxy/helpers.ts";

const ABSENT_ID = "00000000-0000-4000-8000-000000000000";
const ABSENT_KEY = "0".repeat(64);

for (const workers of [1, 2]) {
  describe(`/proxy-cache with --workers ${workers}`, () => {
    let tg: TestGateway;
    let origin: Upstream;
    let hits = 0;
    const plugins: Record<string, string> = {};
    let routeId = "";
    let otherPluginId = "";

    beforeAll(async () => {
      tg = await startTestGateway(["--workers", String(workers)]);
      origin = startUpstream(() => {
        hits++;
        return new Response(JSON.stringify({ n: hits }), {
          headers: { "content-type": "application/json", "x-upstream": "yes" },
        });
      });
      const svc = await admin(tg, "POST", "/services", { url: origin.url });
      for (const path of ["/a", "/b"]) {
        const route = await admin(tg, "POST", `/services/${svc.id}/routes`, { paths: [path] });
        routeId = route.id;
        const plugin = await admin(tg, "POST", `/routes/${route.id}/plugins`, {
          name: "proxy-cache",
          config: { strategy: "memory" },
        });
        plugins[path] = plugin.id;
      }
      // A plugin that is not a proxy-cache one (Kong's spec: it must not disturb the iteration).
      otherPluginId = (
        await admin(tg, "POST", "/plugins", {
          name: "response-transformer",
          config: { add: { headers: ["x-t:1"] } },
        })
      ).id;
      expect(await tg.gateway.synced()).toBe(true);
    });
    afterAll(async () => {
      await tg?.stop();
      await origin?.stop();
    });

    /** A proxied GET on a fresh connection (so, with two workers, on either of them). */
    async function get(path: string) {
      const res = await tg.proxy(path, { headers: { connection: "close" } });
      const body = (await res.json()) as { n: number };
      return { cache: res.headers.get("x-cache-status"), key: res.headers.get("x-cache-key")!, n: body.n };
    }

    /** Requests until ten hits in a row: every worker that answered holds the entry. */
    async function warm(path: string) {
      let row = 0;
      let last = await get(path);
      for (let i = 0; i < 60 && row < 10; i++) {
        last = await get(path);
        row = last.cache === "Hit" ? row + 1 : 0;
      }
      expect(row).toBe(10);
      return last;
    }

    async function status(method: string, path: string) {
      const res = await tg.admin(path, { method });
      return { status: res.status, text: await res.text() };
    }

    test("GET shows the entry as Kong's admin API does, by key and by plugin and key", async () => {
      const first = await get("/a?fresh=1");
      expect(first.cache).toBe("Miss");
      for (const path of [`/proxy-cache/${first.key}`, `/proxy-cache/${plugins["/a"]}/caches/${first.key}`]) {
        const res = await tg.admin(path);
        expect({ path, status: res.status, type: res.headers.get("content-type") }).toEqual({
          path,
          status: 200,
          type: "application/json; charset=utf-8",
        });
        const entry = await res.json();
        expect(entry).toEqual({
          status: 200,
          headers: expect.objectContaining({
            "Content-Type": "application/json",
            "X-Upstream": "yes",
            "X-Cache-Key": first.key,
            "X-Cache-Status": "Miss",
          }),
          body: JSON.stringify({ n: first.n }),
          body_len: JSON.stringify({ n: first.n }).length,
          timestamp: expect.any(Number),
          ttl: 300,
          version: 1,
        });
        expect(Math.abs(entry.timestamp - Date.now() / 1000)).toBeLessThan(60);
      }
      // Another plugin's memory is the same dictionary (kong_db_cache), as Kong's shared dict.
      expect((await status("GET", `/proxy-cache/${plugins["/b"]}/caches/${first.key}`)).status).toBe(200);
    });

    test("an entry cached by one worker alone is found and purged by key", async () => {
      // Each key is cached by one request on one connection, so by one worker: with two, about half of them
      // by each. An admin that asked only one worker would miss some of the eight.
      for (let i = 0; i < 8; i++) {
        const miss = await get(`/a?one=${i}`);
        expect(miss.cache).toBe("Miss");
        expect({ i, ...(await status("GET", `/proxy-cache/${miss.key}`)) }).toMatchObject({ i, status: 200 });
        expect({ i, ...(await status("DELETE", `/proxy-cache/${miss.key}`)) }).toEqual({
          i,
          status: 204,
          text: "",
        });
        expect({ i, ...(await status("GET", `/proxy-cache/${miss.key}`)) }).toEqual({
          i,
          status: 404,
          text: "",
        });
      }
    });

    test("DELETE /proxy-cache/{plugin}/caches/{key}: 204, then no worker answers from the old entry", async () => {
      const warmed = await warm("/a");
      const before = hits;
      expect(await status("DELETE", `/proxy-cache/${plugins["/a"]}/caches/${warmed.key}`)).toEqual({
        status: 204,
        text: "",
      });
      expect(await status("GET", `/proxy-cache/${plugins["/a"]}/caches/${warmed.key}`)).toEqual({
        status: 404,
        text: "",
      });
      const next = await get("/a");
      expect({ cache: next.cache, fresh: next.n > before }).toEqual({ cache: "Miss", fresh: true });
      // On fresh connections (both workers): every answer is the new one or newer, never a purged one.
      for (let i = 0; i < 12; i++) expect((await get("/a")).n).toBeGreaterThan(before);
    });

    test("DELETE /proxy-cache/{key} purges it in every plugin's memory and every worker", async () => {
      const warmed = await warm("/a");
      const before = hits;
      expect(await status("DELETE", `/proxy-cache/${warmed.key}`)).toEqual({ status: 204, text: "" });
      expect(await status("GET", `/proxy-cache/${warmed.key}`)).toEqual({ status: 404, text: "" });
      expect(await status("DELETE", `/proxy-cache/${warmed.key}`)).toEqual({ status: 404, text: "" });
      expect((await get("/a")).cache).toBe("Miss");
      for (let i = 0; i < 12; i++) expect((await get("/a")).n).toBeGreaterThan(before);
    });

    test("DELETE /proxy-cache empties every cache: both routes miss next", async () => {
      const a = await warm("/a");
      const b = await warm("/b");
      const before = hits;
      expect(await status("DELETE", "/proxy-cache")).toEqual({ status: 204, text: "" });
      for (const key of [a.key, b.key])
        expect(await status("GET", `/proxy-cache/${key}`)).toEqual({ status: 404, text: "" });
      expect((await get("/a")).cache).toBe("Miss");
      expect((await get("/b")).cache).toBe("Miss");
      for (let i = 0; i < 12; i++) expect((await get(i % 2 ? "/a" : "/b")).n).toBeGreaterThan(before);
      // Nothing left to purge is still a 204 (Kong).
      expect(await status("DELETE", "/proxy-cache")).toEqual({ status: 204, text: "" });
      expect(await status("DELETE", "/proxy-cache/")).toEqual({ status: 204, text: "" });
    });

    test("a key no cache holds: 404 with no body, by key and by plugin", async () => {
      for (const method of ["GET", "DELETE"]) {
        expect({ method, ...(await status(method, `/proxy-cache/${ABSENT_KEY}`)) }).toEqual({
          method,
          status: 404,
          text: "",
        });
        expect({ method, ...(await status(method, `/proxy-cache/${plugins["/a"]}/caches/nope`)) }).toEqual({
          method,
          status: 404,
          text: "",
        });
      }
    });

    test("a plugin id that names no proxy-cache plugin: 404; one that is no UUID: Kong's error", async () => {
      const key = (await warm("/a")).key;
      // No such plugin, a route's id (Kong's spec), a plugin of another kind: 404 even for a cached key.
      for (const id of [ABSENT_ID, routeId, otherPluginId])
        for (const method of ["GET", "DELETE"])
          expect({ id, method, ...(await status(method, `/proxy-cache/${id}/caches/${key}`)) }).toEqual({
            id,
            method,
            status: 404,
            text: "",
          });
      // The entry is still there: none of those purged it.
      expect((await status("GET", `/proxy-cache/${key}`)).status).toBe(200);
      // An upper-case UUID is the same plugin.
      expect((await status("GET", `/proxy-cache/${plugins["/a"]!.toUpperCase()}/caches/${key}`)).status).toBe(
        200,
      );
      for (const method of ["GET", "DELETE"]) {
        const res = await tg.admin(`/proxy-cache/not-a-uuid/caches/${key}`, { method });
        expect({ method, status: res.status, body: await res.json() }).toEqual({
          method,
          status: 400,
          body: {
            code: 1,
            name: "invalid primary key",
            message: `invalid primary key: '{id="expected a valid UUID"}'`,
            fields: { id: "expected a valid UUID" },
          },
        });
      }
    });

    test("GraphQL agrees with REST: the entry, purge by key (true, then false), purge everything", async () => {
      const key = (await warm("/a")).key;
      const ENTRY = `query($key: String!, $pluginId: ID) {
        proxyCacheEntry(key: $key, pluginId: $pluginId) { status headers body bodyLen timestamp ttl version }
      }`;
      const { body_len, ...same } = await (await tg.admin(`/proxy-cache/${key}`)).json();
      const expected = { ...same, bodyLen: body_len };
      for (const pluginId of [undefined, plugins["/a"]])
        expect(await gqlData(tg, ENTRY, { key, pluginId })).toEqual({ proxyCacheEntry: expected });
      expect(await gqlData(tg, ENTRY, { key: ABSENT_KEY })).toEqual({ proxyCacheEntry: null });

      const PURGE = `mutation($key: String!, $pluginId: ID) { purgeProxyCache(key: $key, pluginId: $pluginId) }`;
      expect(await gqlData(tg, PURGE, { key, pluginId: plugins["/a"] })).toEqual({ purgeProxyCache: true });
      expect(await status("GET", `/proxy-cache/${key}`)).toEqual({ status: 404, text: "" });
      expect(await gqlData(tg, PURGE, { key })).toEqual({ purgeProxyCache: false });
      expect((await get("/a")).cache).toBe("Miss");

      const warmed = await warm("/b");
      expect(await gqlData(tg, "mutation { purgeProxyCaches }")).toEqual({ purgeProxyCaches: true });
      expect(await status("GET", `/proxy-cache/${warmed.key}`)).toEqual({ status: 404, text: "" });
      expect((await get("/b")).cache).toBe("Miss");

      // The plugin errors: no such proxy-cache plugin (REST's bare 404), an id that is no UUID (REST's 400).
      for (const query of [ENTRY, PURGE]) {
        const missing = onlyError(await gql(tg, query, { key, pluginId: otherPluginId }));
        expect({ message: missing.message, extensions: missing.extensions }).toEqual({
          message: `could not find the entity with primary key '{id="${otherPluginId}"}'`,
          extensions: { code: 6, name: "not found", fields: { id: otherPluginId } },
        });
        const invalid = onlyError(await gql(tg, query, { key, pluginId: "not-a-uuid" }));
        expect({ message: invalid.message, extensions: invalid.extensions }).toEqual({
          message: `invalid primary key: '{id="expected a valid UUID"}'`,
          extensions: { code: 1, name: "invalid primary key", fields: { id: "expected a valid UUID" } },
        });
      }
    });

    test("other methods: 405 with Kong's message; OPTIONS lists the allowed ones", async () => {
      for (const [method, path] of [
        ["GET", "/proxy-cache"],
        ["POST", "/proxy-cache"],
        ["PUT", `/proxy-cache/${ABSENT_KEY}`],
        ["POST", `/proxy-cache/${ABSENT_ID}/caches/${ABSENT_KEY}`],
      ] as const) {
        const res = await tg.admin(path, { method });
        expect({ method, path, status: res.status, body: await res.json() }).toEqual({
          method,
          path,
          status: 405,
          body: { message: "Method not allowed" },
        });
      }
      const options = await tg.admin(`/proxy-cache/${ABSENT_KEY}`, { method: "OPTIONS" });
      expect({ status: options.status, allow: options.headers.get("allow") }).toEqual({
        status: 204,
        allow: "DELETE, GET, HEAD, OPTIONS",
      });
    });
  });
}
