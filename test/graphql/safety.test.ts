// Safety: a hostile or careless request gets a GraphQL error quickly, never a 5xx or a stall; a web page
// cannot make the browser of someone on this machine change the configuration; unexpected errors are masked.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { getIntrospectionQuery } from "graphql";
import { LIMITS } from "../../src/admin/graphql/limits.ts";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { gql, rest } from "./support.ts";

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
  await rest(gw, "POST", "/services", { name: "s1", host: "s1.example" });
  await rest(gw, "POST", "/services/s1/routes", { name: "r1", paths: ["/r1"] });
});

afterAll(() => gw.stop());

async function timed(body: unknown, headers: Record<string, string> = {}) {
  const started = performance.now();
  const response = await fetch(`${gw.adminUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, ms: performance.now() - started };
}

function errorsOf(text: string): { message: string; extensions?: Record<string, unknown> }[] {
  return (JSON.parse(text) as { errors: { message: string; extensions?: Record<string, unknown> }[] }).errors;
}

describe("query limits", () => {
  test("an alias bomb of 10,000 fields is refused in under a second", async () => {
    const query = `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: services { totalCount }`).join(" ")} }`;
    const result = await timed({ query });
    expect(result.status).toBeLessThan(500);
    expect(result.ms).toBeLessThan(1000);
    expect(errorsOf(result.text)[0]!.message).toContain(`more that ${LIMITS.maxTokens} tokens`);
  });

  test("a 1,000-level nested query is refused in under a second", async () => {
    // Valid fields all the way down: services → routes → service → routes → …
    let query = "name";
    let depth = 1;
    while (depth < 1000) {
      query = `service { routes { data { ${query} } } }`;
      depth += 3;
    }
    const result = await timed({ query: `{ routes { data { ${query} } } }` });
    expect(result.status).toBeLessThan(500);
    expect(result.ms).toBeLessThan(1000);
    const [error] = errorsOf(result.text);
    expect(error!.message).toContain("too deep");
    expect(error!.extensions).toMatchObject({ limit: "depth", max: LIMITS.maxDepth });
  });

  test("deeper than the depth limit is refused; at the limit it runs", async () => {
    const nest = (levels: number) => {
      // `{ routes { data { service { routes { data { … id` : count the field levels exactly (pages of one,
      // so that the cost limit stays out of the way).
      const chain = ["routes", "data", "service"];
      const call = { routes: "routes(size: 1)", data: "data", service: "service" } as Record<string, string>;
      let open = "";
      let close = "";
      for (let i = 0; i < levels - 1; i++) {
        open += `${call[chain[i % 3]!]} { `;
        close += " }";
      }
      const leaf = { routes: "totalCount", data: "id", service: "id" }[chain[(levels - 2) % 3]!]!;
      return `{ ${open}${leaf}${close} }`;
    };
    const ok = await gql(gw, nest(LIMITS.maxDepth));
    expect(ok.errors).toBeUndefined();
    const tooDeep = await gql(gw, nest(LIMITS.maxDepth + 1));
    expect(tooDeep.errors![0]!.extensions).toMatchObject({ limit: "depth", max: LIMITS.maxDepth });
  });

  test("more aliases than the limit are refused, counting fragments each time they are spread", async () => {
    const aliases = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(" ");
    expect((await gql(gw, `{ ${aliases(LIMITS.maxAliases)} }`)).errors).toBeUndefined();
    const direct = await gql(gw, `{ ${aliases(LIMITS.maxAliases + 1)} }`);
    expect(direct.errors![0]!.extensions).toMatchObject({ limit: "aliases", max: LIMITS.maxAliases });
    // 10 aliases in a fragment spread through 10 aliased fields: 110 aliases, each a real resolution.
    const spread = `{ ${Array.from({ length: 10 }, (_, i) => `s${i}: services { ...F }`).join(" ")} }
      fragment F on ServicePage { ${aliases(10)} }`;
    const viaFragments = await gql(gw, spread);
    expect(viaFragments.errors![0]!.extensions).toMatchObject({ limit: "aliases", max: LIMITS.maxAliases });
  });

  test("too many tokens is a syntax error", async () => {
    const fields = Array.from({ length: LIMITS.maxTokens }, () => "__typename").join(" ");
    const result = await gql(gw, `{ ${fields} }`);
    expect(result.status).toBeLessThan(500);
    expect(result.errors![0]!.message).toContain("tokens");
  });

  test("a query whose nested pages would be too large is refused before it runs (cost)", async () => {
    const expensive = await gql(
      gw,
      "{ services(size: 1000) { data { routes(size: 1000) { data { id name } } } } }",
    );
    expect(expensive.errors![0]!.extensions).toMatchObject({ limit: "cost", max: LIMITS.maxCost });
    // Page sizes from variables count too.
    const viaVariables = await gql(
      gw,
      "query($n: Int) { services(size: $n) { data { routes(size: $n) { data { id name } } } } }",
      { n: 1000 },
    );
    expect(viaVariables.errors![0]!.extensions?.limit).toBe("cost");
    // The cycle services → routes → service → routes multiplies quickly, even with small pages.
    const cycle = await gql(
      gw,
      `{ services(size: 50) { data { routes(size: 50) { data { service { routes(size: 50) {
          data { service { routes(size: 50) { data { id } } } } } } } } } } }`,
    );
    expect(cycle.errors![0]!.extensions?.limit).toBe("cost");
    // A dashboard query with the default page sizes is fine.
    const dashboard = await gql(
      gw,
      `{ services { totalCount data { id name host port enabled tags url
          routes { totalCount data { id name paths hosts methods } } } } }`,
    );
    expect(dashboard.errors).toBeUndefined();
  });

  test("GraphiQL's introspection query fits within every limit", async () => {
    const result = await gql(gw, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }));
    expect(result.errors).toBeUndefined();
    expect(JSON.stringify(result.data)).toContain("addService");
  });

  test("a body over 1 MiB is refused with 413 (declared or streamed), like REST's", async () => {
    const big = JSON.stringify({
      query: "{ services { totalCount } }",
      variables: { pad: "x".repeat(1024 * 1024) },
    });
    const declared = await timed(big);
    expect(declared.status).toBe(413);
    const chunks = [big.slice(0, 600_000), big.slice(600_000)];
    const streamed = await fetch(`${gw.adminUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
          controller.close();
        },
      }),
    });
    expect(streamed.status).toBe(413);
    const justUnder = JSON.stringify({
      query: "{ services { totalCount } }",
      variables: { pad: "x".repeat(1000_000) },
    });
    expect((await timed(justUnder)).status).toBe(200);
  });

  test("batched requests are not accepted", async () => {
    const result = await timed([
      { query: 'mutation { addService(input: { name: "b1", host: "x" }) { id } }' },
      { query: 'mutation { addService(input: { name: "b2", host: "x" }) { id } }' },
    ]);
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.status).toBeLessThan(500);
    expect((await rest(gw, "GET", "/services/b1")).status).toBe(404);
  });
});

describe("no cross-site requests", () => {
  const mutation = (name: string) => `mutation { addService(input: { name: "${name}", host: "x" }) { id } }`;

  test("mutations over GET are refused (405); queries over GET run", async () => {
    const get = await fetch(`${gw.adminUrl}/graphql?query=${encodeURIComponent(mutation("via-get"))}`);
    expect(get.status).toBe(405);
    expect((await rest(gw, "GET", "/services/via-get")).status).toBe(404);
    const query = await fetch(
      `${gw.adminUrl}/graphql?query=${encodeURIComponent("{ services { totalCount } }")}`,
    );
    expect(query.status).toBe(200);
    expect(await query.json()).toEqual({ data: { services: { totalCount: 1 } } });
  });

  for (const [label, contentType, body] of [
    [
      "text/plain (a form or fetch without preflight)",
      "text/plain",
      JSON.stringify({ query: mutation("plain") }),
    ],
    [
      "an HTML form (urlencoded)",
      "application/x-www-form-urlencoded",
      new URLSearchParams({ query: mutation("form") }).toString(),
    ],
    ["application/graphql", "application/graphql", mutation("graphql-body")],
    ["no content type", null, JSON.stringify({ query: mutation("none") })],
  ] as const)
    test(`a POST as ${label} is refused with 415`, async () => {
      const headers: Record<string, string> = contentType ? { "content-type": contentType } : {};
      const response = await fetch(`${gw.adminUrl}/graphql`, { method: "POST", headers, body });
      expect(response.status).toBe(415);
      const services = (await rest(gw, "GET", "/services")).body!.data as { name: string }[];
      expect(services.map((s) => s.name)).toEqual(["s1"]);
    });

  test("a multipart POST is refused with 415", async () => {
    const form = new FormData();
    form.set("operations", JSON.stringify({ query: mutation("multipart") }));
    const response = await fetch(`${gw.adminUrl}/graphql`, { method: "POST", body: form });
    expect(response.status).toBe(415);
  });

  test("application/json with a charset is accepted", async () => {
    const result = await timed(
      { query: "{ services { totalCount } }" },
      { "content-type": "application/json; charset=utf-8" },
    );
    expect(result.status).toBe(200);
  });

  test("a request from a page of another site is refused; no CORS headers are ever sent", async () => {
    const foreign = await timed({ query: mutation("cross-site") }, { origin: "http://evil.example" });
    expect(foreign.status).toBe(403);
    expect((await rest(gw, "GET", "/services/cross-site")).status).toBe(404);
    const preflight = await fetch(`${gw.adminUrl}/graphql`, {
      method: "OPTIONS",
      headers: {
        origin: "http://evil.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBeLessThan(500);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const same = await fetch(`${gw.adminUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: gw.adminUrl },
      body: JSON.stringify({ query: "{ services { totalCount } }" }),
    });
    expect(same.status).toBe(200);
    expect(same.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("other methods and unknown paths under /graphql", async () => {
    const put = await fetch(`${gw.adminUrl}/graphql`, { method: "PUT" });
    expect(put.status).toBe(405);
    expect((await fetch(`${gw.adminUrl}/graphql/nope`)).status).toBe(404);
  });
});

describe("masked errors", () => {
  test("an unexpected failure says only 'An unexpected error occurred' (no message, no stack)", async () => {
    const broken = await startTestGateway();
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      // A bug, not an outage (a database that is down is code 8, answered as such): the store breaks.
      const store = broken.gateway.store as { entity: unknown };
      store.entity = () => {
        throw new Error("secret internals of sqlite at store.ts:42");
      };
      const response = await broken.admin("/graphql", {
        method: "POST",
        body: { query: "{ services { totalCount } }" },
      });
      expect(response.status).toBeLessThan(500);
      const text = await response.text();
      const body = JSON.parse(text) as { errors: { message: string; extensions?: unknown }[] };
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0]!.message).toBe("An unexpected error occurred");
      expect(body.errors[0]!.extensions).toBeUndefined();
      expect(text).not.toMatch(/secret|internals|sqlite|\.ts:|\bat /i);
      // The real error is logged for the operator.
      expect(logged.length).toBeGreaterThan(0);
    } finally {
      console.error = original;
      await broken.stop().catch(() => {});
    }
  });
});
