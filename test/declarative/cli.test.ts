// `portico config …` as a user runs it: the real CLI as a subprocess against a real database (SQLite, or
// PostgreSQL with PORTICO_TEST_STORE=postgres), exact plans, exit codes and error lines.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENTITY_NAMES } from "../../src/store/entities/index.ts";
import { createTestDatabase, TEST_STORE } from "../support/postgres.ts";
import { runPortico, SOURCE_COMMAND } from "../support/process.ts";

const dir = mkdtempSync(join(tmpdir(), "portico-declarative-"));
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
  rmSync(dir, { recursive: true, force: true });
});

const FIXTURE = join(import.meta.dir, "fixtures", "every-entity.yaml");

/** A fresh, empty database of the store under test. */
async function freshDatabase(): Promise<string> {
  if (TEST_STORE === "postgres") {
    const db = await createTestDatabase();
    drops.push(db.drop);
    return db.url;
  }
  return join(dir, `${crypto.randomUUID()}.db`);
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const portico = (args: string[], env: Record<string, string> = {}) =>
  runPortico(SOURCE_COMMAND, args, { env });

const SMALL = `_format_version: "3.0"
services:
  - name: svc
    url: http://example.com:8080/api
    routes:
      - name: r1
        paths: [/a]
`;

describe("portico config", () => {
  test("diff on an empty database lists creations and exits 2; apply makes them; diff is then in sync (0)", async () => {
    const db = await freshDatabase();
    const small = file("small.yaml", SMALL);
    const plan = "creating service svc\ncreating route r1\nSummary: Created 2, Updated 0, Deleted 0\n";
    expect(await portico(["config", "diff", small, "--database", db])).toEqual({
      code: 2,
      stdout: plan,
      stderr: "",
    });
    expect(await portico(["config", "apply", small, "--database", db, "--dry-run"])).toEqual({
      code: 0,
      stdout: `${plan}dry run: nothing was changed\n`,
      stderr: "",
    });
    expect((await portico(["config", "diff", small, "--database", db])).code).toBe(2);
    expect(await portico(["config", "apply", small, "--database", db])).toEqual({
      code: 0,
      stdout: plan,
      stderr: "",
    });
    expect(await portico(["config", "diff", small, "--database", db])).toEqual({
      code: 0,
      stdout: "Summary: Created 0, Updated 0, Deleted 0\n",
      stderr: "",
    });
    const changed = file(
      "changed.yaml",
      `${SMALL.replace("[/a]", "[/b]").replace("url: http://example.com:8080/api", "url: http://example.com:9090/api")}consumers:\n  - username: carol\n`,
    );
    expect(await portico(["config", "diff", changed, "--database", db])).toEqual({
      code: 2,
      stdout: [
        "updating service svc",
        "  port: 8080 -> 9090",
        "updating route r1",
        '  paths: ["/a"] -> ["/b"]',
        "creating consumer carol",
        "Summary: Created 1, Updated 2, Deleted 0",
        "",
      ].join("\n"),
      stderr: "",
    });
    const fewer = file(
      "fewer.yaml",
      `_format_version: "3.0"\nservices:\n  - name: svc\n    url: http://example.com:8080/api\n`,
    );
    expect(await portico(["config", "apply", fewer, "--database", db])).toEqual({
      code: 0,
      stdout: "deleting route r1\nSummary: Created 0, Updated 0, Deleted 1\n",
      stderr: "",
    });
  });

  test("ids are stable: the same file applied to two databases, or twice, gives the same ids", async () => {
    const small = file("stable.yaml", SMALL);
    const exports: string[] = [];
    for (const db of [await freshDatabase(), await freshDatabase()]) {
      expect((await portico(["config", "apply", small, "--database", db])).code).toBe(0);
      expect((await portico(["config", "apply", small, "--database", db])).stdout).toBe(
        "Summary: Created 0, Updated 0, Deleted 0\n",
      );
      exports.push((await portico(["config", "export", "--database", db])).stdout);
    }
    expect(exports[0]).toBe(exports[1]!);
    expect(exports[0]).toContain("id: dfdcad31-d09f-532a-9580-2be3df1c0a44");
  });

  test("round trip of every entity: apply → export → apply on an empty database → the same export", async () => {
    const first = await freshDatabase();
    const applied = await portico(["config", "apply", FIXTURE, "--database", first]);
    expect(applied.stderr).toBe("");
    expect(applied.stdout).toEndWith("Summary: Created 22, Updated 0, Deleted 0\n");
    const exported = await portico(["config", "export", "--database", first]);
    expect(exported.code).toBe(0);
    const document = Bun.YAML.parse(exported.stdout) as Record<string, unknown>;
    // Every entity the gateway has is in the fixture (a new entity needs an example there).
    const seen = new Set<string>();
    const walk = (value: unknown, key?: string) => {
      if (Array.isArray(value)) {
        if (key && value.length > 0) seen.add(key);
        for (const item of value) walk(item);
      } else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, k);
    };
    walk(document);
    expect(ENTITY_NAMES.filter((name) => !seen.has(name))).toEqual([]);
    // The applied file (no ids, clear-text password) is in sync with the store.
    expect((await portico(["config", "diff", FIXTURE, "--database", first])).code).toBe(0);

    const exportFile = file("export.yaml", exported.stdout);
    const second = await freshDatabase();
    expect((await portico(["config", "apply", exportFile, "--database", second])).code).toBe(0);
    const again = await portico(["config", "export", "--database", second]);
    expect(again.stdout).toBe(exported.stdout);
    expect((await portico(["config", "diff", exportFile, "--database", second])).code).toBe(0);
    // The original file is in sync with the copy too: the password hash verifies.
    expect((await portico(["config", "diff", FIXTURE, "--database", second])).stdout).toBe(
      "Summary: Created 0, Updated 0, Deleted 0\n",
    );

    const json = await portico(["config", "export", "--database", second, "--format", "json"]);
    expect(JSON.parse(json.stdout)).toEqual(document);
    const out = join(dir, "out.yaml");
    expect(await portico(["config", "export", "--database", second, "-o", out])).toEqual({
      code: 0,
      stdout: "",
      stderr: `portico: configuration written to ${out}\n`,
    });
    expect(readFileSync(out, "utf8")).toBe(exported.stdout);
  });

  test("nested and flat forms describe the same configuration", async () => {
    const db = await freshDatabase();
    const nested = file(
      "nested.yaml",
      `_format_version: "3.0"
services:
  - name: s
    host: s.internal
    routes:
      - name: r
        paths: [/r]
        plugins:
          - name: cors
consumers:
  - username: u
    acls:
      - group: g
upstreams:
  - name: up
    targets:
      - target: 10.1.1.1:80
`,
    );
    const flat = file(
      "flat.yaml",
      `_format_version: "3.0"
services:
  - name: s
    host: s.internal
routes:
  - name: r
    paths: [/r]
    service: s
plugins:
  - name: cors
    route: r
consumers:
  - username: u
acls:
  - group: g
    consumer: u
upstreams:
  - name: up
targets:
  - target: 10.1.1.1:80
    upstream: { name: up }
`,
    );
    expect((await portico(["config", "apply", nested, "--database", db])).code).toBe(0);
    expect(await portico(["config", "diff", flat, "--database", db])).toEqual({
      code: 0,
      stdout: "Summary: Created 0, Updated 0, Deleted 0\n",
      stderr: "",
    });
  });

  test("select tags: only entities with every select tag are owned; the rest stays untouched", async () => {
    const db = await freshDatabase();
    const teamB = file(
      "team-b.yaml",
      `_format_version: "3.0"\n_info:\n  select_tags: [team-b]\nservices:\n  - name: b-svc\n    host: b.internal\n`,
    );
    expect((await portico(["config", "apply", teamB, "--database", db])).code).toBe(0);
    const teamA = file(
      "team-a.yaml",
      `_format_version: "3.0"
_info:
  select_tags: [team-a]
  defaults:
    service:
      connect_timeout: 1234
services:
  - name: a-svc
    host: a.internal
    routes:
      - name: a-route
        paths: [/a]
routes:
  - name: a-to-b
    paths: [/ab]
    service: b-svc
`,
    );
    expect((await portico(["config", "apply", teamA, "--database", db])).stdout).toBe(
      "creating service a-svc\ncreating route a-route\ncreating route a-to-b\nSummary: Created 3, Updated 0, Deleted 0\n",
    );
    // Team A's file without its routes deletes only team A's routes; team B's service stays.
    const trimmed = file(
      "team-a-2.yaml",
      `_format_version: "3.0"\n_info:\n  select_tags: [team-a]\n  defaults:\n    service:\n      connect_timeout: 1234\nservices:\n  - name: a-svc\n    host: a.internal\n`,
    );
    expect((await portico(["config", "apply", trimmed, "--database", db])).stdout).toBe(
      "deleting route a-route\ndeleting route a-to-b\nSummary: Created 0, Updated 0, Deleted 2\n",
    );
    const exported = Bun.YAML.parse(
      (await portico(["config", "export", "--database", db, "--select-tag", "team-a"])).stdout,
    ) as { _info: unknown; services: { name: string; connect_timeout: number; tags: string[] }[] };
    expect(exported._info).toEqual({ select_tags: ["team-a"] });
    expect(exported.services.map((s) => [s.name, s.connect_timeout, s.tags])).toEqual([
      ["a-svc", 1234, ["team-a"]],
    ]);
    expect((await portico(["config", "diff", teamB, "--database", db])).code).toBe(0);
  });

  test("an apply that fails halfway changes nothing", async () => {
    const db = await freshDatabase();
    const setup = file(
      "setup.yaml",
      `_format_version: "3.0"\nservices:\n  - name: shared\n    host: shared.internal\n  - name: old\n    host: old.internal\n    tags: [team-a]\n`,
    );
    expect((await portico(["config", "apply", setup, "--database", db])).code).toBe(0);
    const before = (await portico(["config", "export", "--database", db])).stdout;
    // Team A deletes "old" (first), then creates a service whose name another team's service holds.
    const clash = file(
      "clash.yaml",
      `_format_version: "3.0"\n_info:\n  select_tags: [team-a]\nservices:\n  - id: 0b5c4ad6-5d7e-4a8e-9a57-000000000001\n    name: shared\n    host: other.internal\n`,
    );
    const result = await portico(["config", "apply", clash, "--database", db]);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "portico: apply failed, nothing was changed: UNIQUE violation detected on '{name=\"shared\"}'\n",
    });
    expect((await portico(["config", "export", "--database", db])).stdout).toBe(before);
  });

  test("environment substitution: decK's env template, from the CLI's environment", async () => {
    const db = await freshDatabase();
    const withEnv = file(
      "env.yaml",
      `_format_version: "3.0"\nconsumers:\n  - username: ci\n    keyauth_credentials:\n      - key: \${{ env "PORTICO_CI_KEY" }}\n`,
    );
    expect(await portico(["config", "apply", withEnv, "--database", db])).toEqual({
      code: 1,
      stdout: "",
      stderr: `portico: invalid declarative configuration:\n  ${withEnv}: environment variable 'PORTICO_CI_KEY' is not set\n`,
    });
    expect(
      (await portico(["config", "apply", withEnv, "--database", db], { PORTICO_CI_KEY: "k-123" })).code,
    ).toBe(0);
    const exported = (await portico(["config", "export", "--database", db])).stdout;
    expect(exported).toContain("key: k-123");
    const foreign = file("foreign.yaml", `_format_version: "3.0"\nservices:\n  - name: \${{ env "HOME" }}\n`);
    expect((await portico(["config", "validate", foreign])).stderr).toBe(
      `portico: invalid declarative configuration:\n  ${foreign}: environment variable 'HOME' cannot be used: only PORTICO_* variables\n`,
    );
  });

  test("validate: parse successful, or every bad entity and field with its place in the file", async () => {
    expect(await portico(["config", "validate", FIXTURE])).toEqual({
      code: 0,
      stdout: "parse successful\n",
      stderr: "",
    });
    const cases: [string, string[]][] = [
      ["services: []\n", [": _format_version: required field missing"]],
      ['_format_version: "9.9"\n', [": _format_version: expected one of: 1.1, 2.1, 3.0"]],
      ['_format_version: "3.0"\nservies: []\n', [": servies: unknown field"]],
      ['_format_version: "3.0"\n_transform: maybe\n', [": _transform: expected a boolean"]],
      ['_format_version: "3.0"\nservices: {name: x}\n', [": services: expected an array"]],
      ["- just\n- a list\n", [": failed parsing declarative configuration: expected an object"]],
      [
        '_format_version: "3.0"\nservices:\n  - name: a\n    host: a\n    port: 70000\n    routes:\n      - paths: [nope]\n        colour: red\n',
        [
          ": services[0] (service a): port: value should be between 0 and 65535",
          ": services[0].routes[0] (route): paths.0: should start with: /",
          ": services[0].routes[0] (route): colour: unknown field",
        ],
      ],
      [
        '_format_version: "3.0"\nservices:\n  - name: a\n    host: a\n  - name: a\n    host: b\n',
        [
          ": services[1] (service a): uniqueness violation: 'services' entity with name set to 'a' already declared",
        ],
      ],
      [
        '_format_version: "3.0"\nroutes:\n  - name: r\n    paths: [/r]\n    service: nowhere\n',
        [
          ": routes[0] (route r): service: invalid reference 'service: nowhere' (no such entry in 'services')",
        ],
      ],
      [
        '_format_version: "3.0"\nplugins:\n  - name: no-such-plugin\n',
        [": plugins[0] (plugin): name: plugin 'no-such-plugin' not enabled; bundled plugins:"],
      ],
      [
        '_format_version: "3.0"\nconsumers:\n  - username: u\n    acls:\n      - group: g\n      - group: g\n',
        [
          ": consumers[0].acls[1] (acl g): uniqueness violation: 'acls' entity with consumer set to '4011f9c1-3411-5ee6-98e5-0831ec4310c6', group set to 'g' already declared",
        ],
      ],
      [
        '_format_version: "3.0"\nservices:\n  - name: s\n    host: s\n    id: 12\n',
        [": services[0] (service s): id: expected a valid UUID"],
      ],
    ];
    for (const [text, lines] of cases) {
      const path = file("bad.yaml", text);
      const result = await portico(["config", "validate", path]);
      expect(result.code).toBe(1);
      const got = result.stderr.trim().split("\n");
      expect(got[0]).toBe("portico: invalid declarative configuration:");
      expect(got.length - 1).toBe(lines.length);
      lines.forEach((line, i) => {
        expect(got[i + 1]!.slice(0, `  ${path}${line}`.length)).toBe(`  ${path}${line}`);
      });
    }
  });

  test("usage errors and unreadable files", async () => {
    expect(await portico(["config", "diff"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "portico: config diff needs at least one file (see portico --help)\n",
    });
    expect((await portico(["config", "export", "--format", "xml"])).stderr).toBe(
      "portico: --format: expected yaml or json, got 'xml' (see portico --help)\n",
    );
    expect((await portico(["config", "frobnicate"])).stderr).toBe(
      "portico: unknown config action 'frobnicate' (expected one of: export, diff, apply, validate) (see portico --help)\n",
    );
    expect(await portico(["config", "validate", join(dir, "missing.yaml")])).toEqual({
      code: 1,
      stdout: "",
      stderr: `portico: cannot read '${join(dir, "missing.yaml")}': ENOENT\n`,
    });
    expect(await portico(["config", "diff", FIXTURE, "--admin-url", "http://127.0.0.1:1"])).toMatchObject({
      code: 1,
      stdout: "",
    });
  });
});

describe("portico config apply: all or nothing", () => {
  test("a constraint only the database sees (two services trading names) rolls back the deletes before it", async () => {
    const db = await freshDatabase();
    const setup = file(
      "trade-setup.yaml",
      `_format_version: "3.0"\nservices:\n  - name: x\n    host: x.internal\n  - name: y\n    host: y.internal\n  - name: doomed\n    host: d.internal\n    routes:\n      - name: doomed-route\n        paths: [/d]\n`,
    );
    expect((await portico(["config", "apply", setup, "--database", db])).code).toBe(0);
    const before = (await portico(["config", "export", "--database", db])).stdout;
    const ids = Bun.YAML.parse(before) as { services: { id: string; name: string }[] };
    const id = (name: string) => ids.services.find((s) => s.name === name)!.id;
    const trade = file(
      "trade.yaml",
      `_format_version: "3.0"\nservices:\n  - id: ${id("x")}\n    name: y\n    host: x.internal\n  - id: ${id("y")}\n    name: x\n    host: y.internal\n`,
    );
    expect((await portico(["config", "diff", trade, "--database", db])).stdout).toBe(
      [
        "updating service y",
        '  name: "x" -> "y"',
        "updating service x",
        '  name: "y" -> "x"',
        "deleting route doomed-route",
        "deleting service doomed",
        "Summary: Created 0, Updated 2, Deleted 2",
        "",
      ].join("\n"),
    );
    const result = await portico(["config", "apply", trade, "--database", db]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toStartWith(
      "portico: apply failed, nothing was changed: UNIQUE violation detected by the database: ",
    );
    expect((await portico(["config", "export", "--database", db])).stdout).toBe(before);
  });
});

describe("portico config: generated keys and secrets", () => {
  const KEYLESS = `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials:
      - tags: [mobile]
      - tags: [web]
    jwt_secrets:
      - algorithm: HS256
  - username: bob
    keyauth_credentials:
      - key: bobs-key
`;
  type Exported = {
    consumers: {
      username: string;
      keyauth_credentials?: { id: string; key: string; tags: string[] | null }[];
      jwt_secrets?: { id: string; key: string; secret: string }[];
    }[];
  };
  const alice = (text: string) =>
    (Bun.YAML.parse(text) as Exported).consumers.find((c) => c.username === "alice")!;

  test("credentials declared without a key keep the generated one: a file applied twice is in sync", async () => {
    const db = await freshDatabase();
    const keyless = file("keyless.yaml", KEYLESS);
    const created = await portico(["config", "apply", keyless, "--database", db]);
    expect(created.code).toBe(0);
    expect(created.stdout).toEndWith("Summary: Created 6, Updated 0, Deleted 0\n");
    const first = alice((await portico(["config", "export", "--database", db])).stdout);
    expect(first.keyauth_credentials!.map((c) => c.key)).toEqual([
      expect.stringMatching(/^[0-9a-f]{32}$/),
      expect.stringMatching(/^[0-9a-f]{32}$/),
    ]);
    expect(await portico(["config", "diff", keyless, "--database", db])).toEqual({
      code: 0,
      stdout: "Summary: Created 0, Updated 0, Deleted 0\n",
      stderr: "",
    });
    expect((await portico(["config", "apply", keyless, "--database", db])).stdout).toBe(
      "Summary: Created 0, Updated 0, Deleted 0\n",
    );
    expect(alice((await portico(["config", "export", "--database", db])).stdout)).toEqual(first);

    // A change to a key-less credential updates it in place: its key (what clients send) stays.
    const retagged = file("keyless-retagged.yaml", KEYLESS.replace("[web]", "[web, v2]"));
    const web = first.keyauth_credentials!.find((c) => c.tags?.includes("web"))!;
    expect(await portico(["config", "diff", retagged, "--database", db])).toEqual({
      code: 2,
      stdout: `updating keyauth_credential ${web.id}\n  tags: ["web"] -> ["web","v2"]\nSummary: Created 0, Updated 1, Deleted 0\n`,
      stderr: "",
    });
    expect((await portico(["config", "apply", retagged, "--database", db])).code).toBe(0);
    const after = alice((await portico(["config", "export", "--database", db])).stdout);
    expect(after.keyauth_credentials!.find((c) => c.id === web.id)!.key).toBe(web.key);
    expect(after.jwt_secrets).toEqual(first.jwt_secrets);

    // Dropped from the file, a key-less credential is deleted like any other.
    const fewer = file(
      "keyless-fewer.yaml",
      KEYLESS.replace("[web]", "[web, v2]").replace("      - tags: [mobile]\n", ""),
    );
    const mobile = first.keyauth_credentials!.find((c) => c.tags?.includes("mobile"))!;
    expect((await portico(["config", "diff", fewer, "--database", db])).stdout).toBe(
      `deleting keyauth_credential ${mobile.id}\nSummary: Created 0, Updated 0, Deleted 1\n`,
    );

    // The ids of key-less credentials are stable across gateways too (the keys are each gateway's own).
    const other = await freshDatabase();
    expect((await portico(["config", "apply", keyless, "--database", other])).code).toBe(0);
    const elsewhere = alice((await portico(["config", "export", "--database", other])).stdout);
    const byTag = (list: Exported["consumers"][number]) =>
      Object.fromEntries(list.keyauth_credentials!.map((c) => [c.tags![0], c]));
    expect(byTag(elsewhere).web!.id).toBe(web.id);
    expect(byTag(elsewhere).mobile!.id).toBe(mobile.id);
    expect(byTag(elsewhere).web!.key).not.toBe(web.key);
  });

  test("a key-less credential takes over a stored one of its consumer, not one another declaration names", async () => {
    const db = await freshDatabase();
    const explicit = file(
      "explicit.yaml",
      `_format_version: "3.0"\nconsumers:\n  - username: carol\n    keyauth_credentials:\n      - key: first-key\n      - key: second-key\n`,
    );
    expect((await portico(["config", "apply", explicit, "--database", db])).code).toBe(0);
    // One keeps its key explicitly; the other is now declared without one and keeps its stored key.
    const mixed = file(
      "mixed.yaml",
      `_format_version: "3.0"\nconsumers:\n  - username: carol\n    keyauth_credentials:\n      - {}\n      - key: first-key\n`,
    );
    expect(await portico(["config", "diff", mixed, "--database", db])).toEqual({
      code: 0,
      stdout: "Summary: Created 0, Updated 0, Deleted 0\n",
      stderr: "",
    });
  });

  test("diffs never print secrets: keys, passwords, JWT secrets, plugin config secrets (env-substituted too)", async () => {
    const db = await freshDatabase();
    const secrets = (n: string) => `_format_version: "3.0"
consumers:
  - username: dave
    keyauth_credentials:
      - key: key-${n}-AAAA
    basicauth_credentials:
      - username: dave
        password: pw-${n}-BBBB
    jwt_secrets:
      - key: dave-issuer
        secret: jwt-${n}-CCCC
plugins:
  - name: rate-limiting
    config:
      minute: ${n === "one" ? 5 : 10}
      policy: redis
      redis:
        host: redis.internal
        password: \${{ env "PORTICO_REDIS_PASSWORD" }}
  - name: http-log
    config:
      http_endpoint: http://logger:log-${n}-DDDD@logs.internal/in
      headers:
        X-Api-Key: tok-${n}-EEEE
        X-Team: ${n}
  - name: request-transformer
    config:
      add:
        headers: ["X-Token:\${{ env "PORTICO_UPSTREAM_TOKEN" }}", "X-Env:\${{ env "PORTICO_STAGE" }}"]
`;
    const one = file("secrets-one.yaml", secrets("one"));
    const two = file("secrets-two.yaml", secrets("two"));
    const applied = await portico(["config", "apply", one, "--database", db], {
      PORTICO_REDIS_PASSWORD: "redis-one-FFFF",
      PORTICO_UPSTREAM_TOKEN: "upstream-one-HHHH",
      PORTICO_STAGE: "prod",
    });
    expect(applied.stderr).toBe("");
    const diff = await portico(["config", "diff", two, "--database", db], {
      PORTICO_REDIS_PASSWORD: "redis-two-GGGG",
      PORTICO_UPSTREAM_TOKEN: "upstream-two-IIII",
      PORTICO_STAGE: "staging",
    });
    const keyauth = (
      Bun.YAML.parse((await portico(["config", "export", "--database", db])).stdout) as Exported
    ).consumers[0]!.keyauth_credentials![0]!;
    expect(diff.code).toBe(2);
    // A new key is a new credential: named by its id, never by the key.
    // Every header value of http-log counts as a secret (they carry tokens).
    const shown = diff.stdout
      .replace(/creating keyauth_credential [0-9a-f-]{36}/, "creating keyauth_credential ID")
      .replace(/(updating plugin [a-z-]+) [0-9a-f-]{36}/g, "$1 ID");
    expect(shown).toBe(
      [
        "updating plugin rate-limiting ID",
        "  config.minute: 5 -> 10",
        "  config.redis.password: <redacted> -> <redacted>",
        "updating plugin http-log ID",
        "  config.http_endpoint: <redacted> -> <redacted>",
        "  config.headers.X-Api-Key: <redacted> -> <redacted>",
        "  config.headers.X-Team: <redacted> -> <redacted>",
        // Values from the environment are masked as decK's --mask-secrets does (a short one only where it is
        // the whole value), and so is the stored value they replace (the previous token).
        "updating plugin request-transformer ID",
        '  config.add.headers: [masked] -> ["X-Token:[masked]","X-Env:staging"]',
        "creating keyauth_credential ID",
        "updating basicauth_credential dave",
        "  password: <redacted> -> <redacted>",
        "updating jwt_secret dave-issuer",
        "  secret: <redacted> -> <redacted>",
        `deleting keyauth_credential ${keyauth.id}`,
        "Summary: Created 1, Updated 5, Deleted 1",
        "",
      ].join("\n"),
    );
    for (const secret of ["AAAA", "BBBB", "CCCC", "DDDD", "EEEE", "FFFF", "GGGG", "HHHH", "IIII"]) {
      expect(diff.stdout).not.toContain(secret);
      expect(diff.stderr).not.toContain(secret);
    }
    // The export is a file to apply elsewhere: it keeps the real values.
    const exported = (await portico(["config", "export", "--database", db])).stdout;
    expect(exported).toContain("redis-one-FFFF");
    expect(exported).toContain("tok-one-EEEE");
  });
});
