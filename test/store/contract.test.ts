// The store contract, rule by rule, on both dialects: the same tests run against the embedded SQLite and a
// fresh database on the machine's PostgreSQL (Kong's rules live once, in store.ts; only the dialect differs).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayError } from "../../src/errors.ts";
import type { ChangeEvent, Store } from "../../src/store/contract.ts";
import { openStore } from "../../src/store/open.ts";
import { createTestDatabase, requirePostgres, type TestDatabase } from "../support/postgres.ts";

type Dialect = {
  name: string;
  open(): Promise<{ store: Store; location: string; cleanup(): Promise<void> }>;
};

const dialects: Dialect[] = [
  {
    name: "sqlite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "portico-contract-"));
      const location = join(dir, "store.db");
      return {
        store: await openStore(location),
        location,
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];
if (await requirePostgres("store contract on PostgreSQL"))
  dialects.push({
    name: "postgres",
    async open() {
      const db: TestDatabase = await createTestDatabase();
      return { store: await openStore(db.url), location: db.url, cleanup: () => db.drop() };
    },
  });

/** The GatewayError a promise rejects with, as Kong's error body. */
async function kongError(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return { status: error.status, ...error.toJSON() };
    throw error;
  }
  throw new Error("expected a GatewayError");
}

for (const dialect of dialects)
  describe(`store contract on ${dialect.name}`, () => {
    let store: Store;
    let location: string;
    let cleanup: () => Promise<void>;
    const events: ChangeEvent[] = [];

    beforeAll(async () => {
      ({ store, location, cleanup } = await dialect.open());
      store.subscribe((event) => events.push(event));
    });
    afterAll(async () => {
      await store.close();
      await cleanup();
    });

    const services = () => store.entity("services");
    const routes = () => store.entity("routes");
    const consumers = () => store.entity("consumers");
    const plugins = () => store.entity("plugins");

    test("info and ping", async () => {
      expect(store.info.dialect).toBe(dialect.name as "sqlite" | "postgres");
      expect(await store.ping()).toBe(true);
      expect(location.length).toBeGreaterThan(0);
    });

    test("insert renders every field with Kong's defaults; get by id and by name", async () => {
      const created = await services().insert({
        name: "s1",
        url: "https://api.test:8443/v1",
        tags: ["a", "a", "b"],
      });
      expect(created).toMatchObject({
        name: "s1",
        protocol: "https",
        host: "api.test",
        port: 8443,
        path: "/v1",
        retries: 5,
        tags: ["a", "b"],
        enabled: true,
        tls_verify: null,
      });
      expect(Number.isInteger(created.created_at)).toBe(true);
      expect(await services().get("s1")).toEqual(created);
      expect(await services().get(created.id.toUpperCase())).toEqual(created);
      expect(await services().get("nope")).toBeNull();
    });

    test("unique violation (409, code 5) and primary key violation (code 3)", async () => {
      expect(await kongError(services().insert({ name: "s1", host: "x.test" }))).toEqual({
        status: 409,
        code: 5,
        name: "unique constraint violation",
        message: `UNIQUE violation detected on '{name="s1"}'`,
        fields: { name: "s1" },
      });
      const id = (await services().get("s1"))!.id;
      expect(await kongError(services().insert({ id, name: "s2", host: "x.test" }))).toMatchObject({
        code: 3,
        fields: { id },
      });
    });

    test("schema violations are Kong's code 2 and write nothing", async () => {
      const before = await store.configVersion();
      expect(await kongError(services().insert({ name: "bad", host: "x.test", port: 70000 }))).toMatchObject({
        status: 400,
        code: 2,
        fields: { port: "value should be between 0 and 65535" },
      });
      expect(await services().get("bad")).toBeNull();
      expect(await store.configVersion()).toBe(before);
    });

    test("foreign keys: by name resolved to {id}; unknown id is code 4, unknown name code 13", async () => {
      const route = await routes().insert({ name: "r1", paths: ["/r1"], service: { name: "s1" } });
      expect(route.service).toEqual({ id: (await services().get("s1"))!.id });
      const missing = "00000000-0000-4000-8000-000000000001";
      expect(await kongError(routes().insert({ paths: ["/x"], service: { id: missing } }))).toMatchObject({
        code: 4,
        fields: { service: { id: missing } },
      });
      expect(await kongError(routes().insert({ paths: ["/x"], service: { name: "ghost" } }))).toMatchObject({
        code: 13,
      });
    });

    test("delete: restricted while referenced (code 4); cascades plugins; 204 semantics (null when absent)", async () => {
      expect(await kongError(services().delete("s1"))).toMatchObject({
        code: 4,
        message: "an existing 'routes' entity references this 'services' entity",
        fields: { "@referenced_by": "routes" },
      });
      const svc = await services().insert({ name: "doomed", host: "d.test" });
      await plugins().insert({ name: "key-auth", service: { id: svc.id } });
      expect((await plugins().page({ size: 10, scope: { service: svc.id } })).data.length).toBe(1);
      events.length = 0;
      expect((await services().delete("doomed"))?.id).toBe(svc.id);
      expect((await plugins().page({ size: 10, scope: { service: svc.id } })).data).toEqual([]);
      expect(events.map((e) => [e.entity, e.action])).toEqual([
        ["plugins", "delete"],
        ["services", "delete"],
      ]);
      expect(await services().delete("doomed")).toBeNull();
    });

    test("update merges (a plugin's config key by key), validates the whole entity, keeps id and created_at", async () => {
      const plugin = await plugins().insert({
        name: "key-auth",
        instance_name: "ka",
        config: { key_names: ["k"] },
      });
      const updated = await plugins().update("ka", { config: { hide_credentials: true } });
      expect(updated.config).toMatchObject({ key_names: ["k"], hide_credentials: true });
      expect(updated.id).toBe(plugin.id);
      expect(updated.created_at).toBe(plugin.created_at);
      expect(await kongError(plugins().update("nothing-here", {}))).toMatchObject({ status: 404, code: 6 });
      expect(await kongError(plugins().update("ka", { config: { key_names: [] } }))).toMatchObject({
        code: 2,
      });
    });

    test("upsert replaces (omitted fields back to defaults), keeps the id by name, creates when missing", async () => {
      const first = await services().upsert("put-me", { host: "p.test", retries: 1 });
      const second = await services().upsert("put-me", { host: "q.test" });
      expect(second.id).toBe(first.id);
      expect(second).toMatchObject({ name: "put-me", host: "q.test", retries: 5 });
      const id = "00000000-0000-4000-8000-0000000000aa";
      expect((await services().upsert(id, { host: "r.test" })).id).toBe(id);
    });

    test("composite uniques treat null as a value (one global plugin of a name)", async () => {
      await plugins().insert({ name: "acl", config: { allow: ["a"] } });
      expect(await kongError(plugins().insert({ name: "acl", config: { allow: ["b"] } }))).toMatchObject({
        status: 409,
        code: 5,
        fields: { consumer: null, name: "acl", route: null, service: null },
      });
    });

    test("pages: ordered by id, opaque offsets, tag filters AND / OR, scopes", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(
          (await consumers().insert({ username: `c${i}`, tags: i % 2 ? ["odd", "all"] : ["even", "all"] }))
            .id,
        );
      const all = (await consumers().page({ size: 100 })).data.map((c) => c.id);
      expect(all).toEqual([...all].sort());
      const first = await consumers().page({ size: 2 });
      expect(first.data.length).toBe(2);
      const second = await consumers().page({ size: 2, offset: first.offset! });
      expect(second.data[0]!.id > first.data[1]!.id).toBe(true);
      const odd = await consumers().page({ size: 100, tags: { mode: "and", tags: ["odd", "all"] } });
      expect(odd.data.map((c) => c.username).sort()).toEqual(["c1", "c3"]);
      const either = await consumers().page({ size: 100, tags: { mode: "or", tags: ["odd", "even"] } });
      expect(either.data.length).toBe(5);
      expect(await consumers().count(undefined, { mode: "and", tags: ["even"] })).toBe(3);
      expect(await kongError(consumers().page({ size: 1, offset: "!!" }))).toMatchObject({ code: 7 });
      const svc = (await services().get("s1"))!;
      expect((await routes().page({ size: 10, scope: { service: svc.id } })).data.map((r) => r.name)).toEqual(
        ["r1"],
      );
      expect(await routes().count({ service: svc.id })).toBe(1);
    });

    test("JSON, booleans and nulls round-trip exactly", async () => {
      const route = await routes().insert({
        name: "rich",
        paths: ["/a", "~/b/(?P<id>\\d+)$"],
        headers: { "x-v": ["1", "~*^v\\d$"] },
        methods: ["GET"],
        strip_path: false,
        preserve_host: true,
      });
      const again = (await routes().get("rich"))!;
      expect(again).toEqual(route);
      expect(again.headers).toEqual({ "x-v": ["1", "~*^v\\d$"] });
      expect(again.strip_path).toBe(false);
      expect(again.sources).toBeNull();
    });

    test("targets: float-second timestamps and the healthchecks record round-trip; unique per upstream; cascade", async () => {
      const upstream = await store.entity("upstreams").insert({
        name: "contract.upstream",
        healthchecks: { active: { healthy: { interval: 0.5 } }, threshold: 33.5 },
      });
      expect((await store.entity("upstreams").get("contract.upstream"))!.healthchecks).toEqual(
        upstream.healthchecks,
      );
      const targets = store.entity("targets");
      const scope = { upstream: upstream.id };
      const target = await targets.insert({ target: "a.test", weight: 0 }, scope);
      expect(target.target).toBe("a.test:8000");
      expect(Math.round(target.created_at * 1000) / 1000).toBe(target.created_at);
      expect(await targets.get("a.test:8000", scope)).toEqual(target);
      expect(await kongError(targets.insert({ target: "a.test:8000" }, scope))).toMatchObject({
        status: 409,
        code: 5,
      });
      await store.entity("upstreams").delete(upstream.id);
      expect(await targets.get(target.id)).toBeNull();
    });

    test("a batch commits together or not at all", async () => {
      const before = await store.configVersion();
      await expect(
        store.batch([
          { entity: "services", action: "insert", input: { name: "batch-a", host: "a.test" } },
          { entity: "services", action: "insert", input: { name: "batch-a", host: "b.test" } },
        ]),
      ).rejects.toBeInstanceOf(GatewayError);
      expect(await services().get("batch-a")).toBeNull();
      expect(await store.configVersion()).toBe(before);
      events.length = 0;
      await store.batch([
        { entity: "services", action: "insert", input: { name: "batch-b", host: "b.test" } },
        {
          entity: "routes",
          action: "insert",
          input: { name: "batch-b", paths: ["/bb"], service: { name: "batch-b" } },
        },
      ]);
      expect(events.map((e) => [e.entity, e.version])).toEqual([
        ["services", before + 1],
        ["routes", before + 2],
      ]);
      expect(await store.configVersion()).toBe(before + 2);
    });

    test("concurrent writers: 40 inserts of one name give exactly one success and 39 code-5 conflicts", async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, () => services().insert({ name: "race", host: "race.test" })),
      );
      const ok = results.filter((r) => r.status === "fulfilled").length;
      const conflicts = results.filter(
        (r) => r.status === "rejected" && (r.reason as GatewayError).code === 5,
      ).length;
      expect([ok, conflicts]).toEqual([1, 39]);
    });

    test("verified bulk writes: 1,300 rows in chunked statements, read back whole exactly as one by one; a moved version is refused", async () => {
      const service = (await services().get("s1"))!;
      const base = (await routes().get("rich"))!;
      const now = Math.floor(Date.now() / 1000);
      // 1,300 = 2 full chunks of 512 + 256 + 16 + 4: five statement sizes.
      const ids = Array.from(
        { length: 1300 },
        (_, i) => `00000000-0000-4000-9000-${String(i).padStart(12, "0")}`,
      );
      const row = (id: string, i: number, path: string) => ({
        ...base,
        id,
        name: `bulk-${i}`,
        paths: [path],
        strip_path: i % 2 === 0,
        headers: i % 3 === 0 ? { "x-n": [String(i)] } : null,
        service: { id: service.id },
        created_at: now,
        updated_at: now,
      });
      const version = await store.configVersion();
      await store.writeVerified(
        version,
        ids.map((id, i) => ({ entity: "routes", action: "create", id, row: row(id, i, `/bulk/${i}`) })),
      );
      expect(await store.configVersion()).toBe(version + 1300);
      const all = (await routes().all()).filter((r) => r.name?.startsWith("bulk-"));
      expect(all.length).toBe(1300);
      expect(all[0]).toEqual(row(ids[0]!, 0, "/bulk/0") as never);
      expect(all[3]).toEqual((await routes().get("bulk-3"))!);
      expect(all[1299]!.strip_path).toBe(false);

      const moved = store.configVersion().then((v) => v - 1);
      await expect(
        store.writeVerified(await moved, [{ entity: "routes", action: "delete", id: ids[0]! }]),
      ).rejects.toThrow();
      expect(await routes().get(ids[0]!)).not.toBeNull();

      const next = await store.configVersion();
      await store.writeVerified(next, [
        { entity: "routes", action: "update", id: ids[1]!, row: row(ids[1]!, 1, "/moved") },
        ...ids.slice(2).map((id) => ({ entity: "routes" as const, action: "delete" as const, id })),
      ]);
      const left = (await routes().all()).filter((r) => r.name?.startsWith("bulk-"));
      expect(left.map((r) => [r.name, r.paths])).toEqual([
        ["bulk-0", ["/bulk/0"]],
        ["bulk-1", ["/moved"]],
      ]);
      await store.writeVerified(await store.configVersion(), [
        { entity: "routes", action: "delete", id: ids[0]! },
        { entity: "routes", action: "delete", id: ids[1]! },
      ]);
    });

    test("a password is hashed before it is stored (prepare runs outside the transaction)", async () => {
      await consumers().insert({ username: "pw" });
      const cred = await store.entity("basicauth_credentials").insert(
        { username: "u", password: "secret" },
        {
          consumer: (await consumers().get("pw"))!.id,
        },
      );
      expect(cred.password.startsWith("$argon2id$")).toBe(true);
    });
  });

for (const dialect of dialects)
  describe(`two stores on one ${dialect.name} database (two nodes, or two processes on one file)`, () => {
    let a: Store;
    let b: Store;
    let cleanup: () => Promise<void>;
    let location: string;
    const seenByB: ChangeEvent[] = [];

    beforeAll(async () => {
      const opened = await dialect.open();
      a = opened.store;
      cleanup = opened.cleanup;
      location = opened.location;
      b = await openStore(opened.location);
      b.subscribe((event) => seenByB.push(event));
    });
    afterAll(async () => {
      await a.close();
      await b.close();
      await cleanup();
    });

    test("a write on one is noticed by the other (watch) and delivered in order by sync", async () => {
      const noticed = new Promise<void>((resolve) => {
        const stop = b.watch(() => {
          stop();
          resolve();
        });
      });
      const svc = await a.entity("services").insert({ name: "from-a", host: "a.test" });
      await a.entity("routes").insert({ name: "from-a", paths: ["/a"], service: { id: svc.id } });
      await Promise.race([noticed, Bun.sleep(2000).then(() => Promise.reject(new Error("not noticed")))]);
      await b.sync();
      expect(seenByB.map((e) => [e.entity, e.action, e.version])).toEqual([
        ["services", "create", 1],
        ["routes", "create", 2],
      ]);
      expect(seenByB[0]!.id).toBe(svc.id);
    });

    test("the other's own later write is delivered after the first one's, never before", async () => {
      seenByB.length = 0;
      await a.entity("consumers").insert({ username: "from-a" });
      // b has not synced a's write yet: its own commit must first deliver what came before it.
      await b.entity("consumers").insert({ username: "from-b" });
      expect(seenByB.map((e) => e.version)).toEqual([3, 4]);
      await b.sync();
      expect(seenByB.map((e) => e.version)).toEqual([3, 4]);
    });

    test("a broadcast reaches the other store on its next sync, once, in order; never the sender", async () => {
      const seen = { a: [] as string[], b: [] as string[] };
      const stopA = a.onBroadcast((channel, data) => seen.a.push(`${channel} ${data}`));
      const stopB = b.onBroadcast((channel, data) => seen.b.push(`${channel} ${data}`));
      await a.broadcast("proxy-cache:purge", "first");
      await a.broadcast("other", "second");
      await Promise.all([a.sync(), b.sync()]);
      await b.sync();
      // A store opened now starts after what is stored: a new node has nothing to purge.
      const late = await openStore(location);
      const seenLate: string[] = [];
      late.onBroadcast((_channel, data) => seenLate.push(data));
      await b.broadcast("proxy-cache:purge", "third");
      await Promise.all([a.sync(), b.sync(), late.sync()]);
      stopA();
      stopB();
      await late.close();
      expect({ ...seen, late: seenLate }).toEqual({
        a: ["proxy-cache:purge third"],
        b: ["proxy-cache:purge first", "other second"],
        late: ["third"],
      });
    });

    test("nodes: heartbeats upsert, pages list them by id, purge forgets the silent ones", async () => {
      const node = (id: string, lastSeen: number) => ({
        id,
        hostname: `host-${id.slice(-1)}`,
        version: "0.1.0",
        config_version: 4,
        started_at: 1000,
        last_seen: lastSeen,
        workers: 2,
      });
      const ids = ["00000000-0000-4000-8000-000000000011", "00000000-0000-4000-8000-000000000012"];
      await a.nodes.heartbeat(node(ids[0]!, 2000));
      await b.nodes.heartbeat(node(ids[1]!, 3000));
      await a.nodes.heartbeat({ ...node(ids[0]!, 2500), config_version: 5 });
      const first = await b.nodes.page({ size: 1 });
      expect(first.data).toEqual([{ ...node(ids[0]!, 2500), config_version: 5 }]);
      const second = await b.nodes.page({ size: 1, offset: first.offset! });
      expect(second).toEqual({ data: [node(ids[1]!, 3000)], offset: null });
      expect(await a.nodes.purge(2800)).toBe(1);
      expect((await a.nodes.page({ size: 10 })).data.map((n) => n.id)).toEqual([ids[1]!]);
    });
  });
