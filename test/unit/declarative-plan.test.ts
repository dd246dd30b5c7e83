// The plan's pure parts: how updates are described (records followed down to the changed values, secrets
// redacted wherever they sit) and the stable ids of declarative entities.
import { describe, expect, test } from "bun:test";
import type { CurrentState, DesiredState } from "../../src/declarative/desired.ts";
import { naturalKeys } from "../../src/declarative/model.ts";
import { makePlan, renderPlan } from "../../src/declarative/plan.ts";
import { uuidV5 } from "../../src/declarative/uuid-v5.ts";
import { ENTITIES } from "../../src/store/entities/index.ts";
import type { EntityDefinition, Row } from "../../src/store/entity-def.ts";

const ID = "00000000-0000-4000-8000-0000000000a1";

function plugin(config: Record<string, unknown>): Row {
  return {
    name: "rate-limiting",
    instance_name: null,
    config,
    protocols: ["http", "https"],
    enabled: true,
    tags: null,
    route: null,
    service: null,
    consumer: null,
  };
}

async function updatePlan(from: Row, to: Row) {
  const def = ENTITIES.plugins as EntityDefinition;
  const current: CurrentState = new Map([["plugins", [{ ...from, id: ID, created_at: 1, updated_at: 1 }]]]);
  const desired: DesiredState = new Map([
    ["plugins", [{ id: ID, row: to, keys: naturalKeys(def, to), transform: false }]],
  ]);
  return renderPlan(await makePlan(desired, current, []));
}

describe("plan", () => {
  test("a record is followed down to the values that change; an unchanged entity is no change", async () => {
    const base = { minute: 5, policy: "local", redis: { host: null, password: null } };
    expect(await updatePlan(plugin(base), plugin(base))).toBe("Summary: Created 0, Updated 0, Deleted 0\n");
    expect(await updatePlan(plugin(base), plugin({ ...base, minute: 6, hour: 100 }))).toBe(
      [
        `updating plugin rate-limiting ${ID}`,
        "  config.minute: 5 -> 6",
        "  config.hour: null -> 100",
        "Summary: Created 0, Updated 1, Deleted 0",
        "",
      ].join("\n"),
    );
  });

  test("a secret is redacted at its own path, inside a record set whole, and shown as null when absent", async () => {
    const before = plugin({ minute: 5, redis: null });
    const after = plugin({ minute: 5, redis: { host: "r.internal", password: "s3cret" } });
    expect(await updatePlan(before, after)).toBe(
      [
        `updating plugin rate-limiting ${ID}`,
        '  config.redis: null -> {"host":"r.internal","password":"<redacted>"}',
        "Summary: Created 0, Updated 1, Deleted 0",
        "",
      ].join("\n"),
    );
    const changed = plugin({ minute: 5, redis: { host: "r.internal", password: "other" } });
    expect(await updatePlan(after, changed)).toContain("  config.redis.password: <redacted> -> <redacted>\n");
    const cleared = plugin({ minute: 5, redis: { host: "r.internal", password: null } });
    expect(await updatePlan(after, cleared)).toContain("  config.redis.password: <redacted> -> null\n");
  });

  test("uuidV5 ids are RFC 4122 version 5 and never change for a name", () => {
    expect(uuidV5('services|name|["svc"]')).toBe("dfdcad31-d09f-532a-9580-2be3df1c0a44");
    expect(uuidV5("é ünïcode ☃")).toBe("be56f95e-214a-5021-a09c-b153275cc48b");
    expect(uuidV5("")).toBe("d677efef-57e0-5d9d-93bd-bcd6b68cacdb");
  });
});
