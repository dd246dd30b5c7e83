// The playground over HTTP: a small page that loads everything from this listener, gzipped and immutable.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { GRAPHIQL_ASSETS } from "../../src/admin/graphql/graphiql/assets.generated.ts";
import { startTestGateway, type TestGateway } from "../harness.ts";

let gw: TestGateway;
let html: string;
let csp: string | null;

beforeAll(async () => {
  gw = await startTestGateway();
  const response = await fetch(`${gw.adminUrl}/graphql`, { headers: { accept: "text/html" } });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/html");
  csp = response.headers.get("content-security-policy");
  html = await response.text();
});

afterAll(() => gw.stop());

const referenced = () => [...html.matchAll(/\/graphql\/assets\/[^"']+/g)].map((m) => m[0]);

describe("the playground page", () => {
  test("is a small shell with a default query, and loads nothing from another origin", () => {
    expect(html.length).toBeLessThan(8 * 1024);
    expect(html).toContain("Welcome to Portico");
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/cdn|unpkg|jsdelivr/i);
    // The script, the styles, the favicon and the three editor workers.
    expect(new Set(referenced()).size).toBe(Object.keys(GRAPHIQL_ASSETS).length);
  });

  test("forbids the browser to load from or connect to any other origin (Content-Security-Policy)", () => {
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:|\*/);
  });

  test("is only the answer to a browser's GET: a JSON client gets GraphQL", async () => {
    const response = await fetch(
      `${gw.adminUrl}/graphql?query=${encodeURIComponent("{ status { version } }")}`,
      {
        headers: { accept: "application/json" },
      },
    );
    expect(response.headers.get("content-type")).toContain("application/json");
  });
});

describe("the assets", () => {
  for (const asset of Object.values(GRAPHIQL_ASSETS))
    test(`${asset.name}: gzipped, immutable, the right type and size`, async () => {
      expect(referenced()).toContain(`/graphql/assets/${asset.name}`);
      const response = await fetch(`${gw.adminUrl}/graphql/assets/${asset.name}`, {
        headers: { "accept-encoding": "gzip, deflate, br" },
        decompress: false,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe(asset.contentType);
      expect(response.headers.get("content-encoding")).toBe("gzip");
      expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(response.headers.get("vary")).toBe("accept-encoding");
      const gzipped = new Uint8Array(await response.arrayBuffer());
      expect(gunzipSync(gzipped).byteLength).toBe(asset.size);
      expect(gzipped.byteLength).toBeLessThan(asset.size);
    });

  test("a client that does not accept gzip gets the plain bytes", async () => {
    const asset = GRAPHIQL_ASSETS.css;
    const response = await fetch(`${gw.adminUrl}/graphql/assets/${asset.name}`, {
      headers: { "accept-encoding": "identity" },
      decompress: false,
    });
    expect(response.headers.get("content-encoding")).toBeNull();
    expect((await response.arrayBuffer()).byteLength).toBe(asset.size);
    const refused = await fetch(`${gw.adminUrl}/graphql/assets/${asset.name}`, {
      headers: { "accept-encoding": "gzip;q=0" },
      decompress: false,
    });
    expect(refused.headers.get("content-encoding")).toBeNull();
  });

  test("HEAD answers the headers; other methods and unknown names do not", async () => {
    const asset = GRAPHIQL_ASSETS.js;
    const head = await fetch(`${gw.adminUrl}/graphql/assets/${asset.name}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(`${gw.adminUrl}/graphql/assets/${asset.name}`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${gw.adminUrl}/graphql/assets/graphiql.000000000000.js`)).status).toBe(404);
  });
});
