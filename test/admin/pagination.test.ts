// Kong's list pagination: size (default 100, max 1000), opaque offset, `next` links that carry tags and
// size, tag filters (AND with `,`, OR with `/`), nested lists, and the errors for bad arguments.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { call, createService } from "./helpers.ts";

let tg: TestGateway;
type Entity = { id: string; tags: string[] | null; name: string | null };
let all: Entity[] = [];

const TOTAL = 130;
/** Service i gets: "all", "even"|"odd", and "tri" when i % 3 === 0 (plus "x-<i>"). */
const tagsOf = (i: number) => [
  "all",
  i % 2 === 0 ? "even" : "odd",
  ...(i % 3 === 0 ? ["tri"] : []),
  `x-${i}`,
];

beforeAll(async () => {
  tg = await startTestGateway();
  const created: Entity[] = [];
  for (let i = 0; i < TOTAL; i++)
    created.push(await createService(tg, { name: `svc-${i}`, host: "h.example", tags: tagsOf(i) }));
  all = created.sort((a, b) => (a.id < b.id ? -1 : 1));
});
afterAll(() => tg.stop());

/** Follows `next` from `first` to the end, checking each page's shape; returns the pages. */
async function walk(first: string) {
  const pages: { data: Entity[]; offset?: string; next: string | null }[] = [];
  let path: string | null = first;
  while (path !== null) {
    const res = await call(tg, path);
    expect(res.status).toBe(200);
    pages.push(res.body);
    if (res.body.next === null) expect("offset" in res.body).toBe(false);
    else expect(typeof res.body.offset).toBe("string");
    path = res.body.next;
    expect(pages.length).toBeLessThan(200);
  }
  return pages;
}

describe("GET /services pagination", () => {
  test("default size is 100, ordered by id, with offset and next", async () => {
    const first = await call(tg, "/services");
    expect(first.status).toBe(200);
    expect(first.body.data).toEqual(all.slice(0, 100));
    const offset = first.body.offset;
    expect(first.body).toEqual({
      data: all.slice(0, 100),
      offset,
      next: `/services?offset=${encodeURIComponent(offset)}`,
    });
    const second = await call(tg, first.body.next);
    expect(second.body).toEqual({ data: all.slice(100), next: null });
  });

  test("size=1000 returns everything in one page with next null and no offset", async () => {
    const res = await call(tg, "/services?size=1000");
    expect(res.body).toEqual({ data: all, next: null });
  });

  test("a size=7 walk visits every service exactly once, in id order", async () => {
    const pages = await walk("/services?size=7");
    expect(pages.map((p) => p.data.length)).toEqual([...Array(18).fill(7), TOTAL - 18 * 7]);
    expect(pages.flatMap((p) => p.data)).toEqual(all);
    for (const page of pages.slice(0, -1))
      expect(page.next).toBe(`/services?offset=${encodeURIComponent(page.offset!)}&size=7`);
  });

  test("size equal to the total ends on the first page", async () => {
    expect((await call(tg, `/services?size=${TOTAL}`)).body).toEqual({ data: all, next: null });
  });

  test("size=1 and an explicit empty offset start at the beginning", async () => {
    const res = await call(tg, "/services?size=1&offset=");
    expect(res.body.data).toEqual([all[0]]);
    expect(res.body.next).toBe(`/services?offset=${encodeURIComponent(res.body.offset)}&size=1`);
  });

  test("unknown query arguments are ignored", async () => {
    expect((await call(tg, "/services?size=1000&foo=bar")).body).toEqual({ data: all, next: null });
  });
});

describe("tag filters", () => {
  const having = (pred: (tags: string[]) => boolean) => all.filter((s) => pred(s.tags!));

  test("a single tag", async () => {
    expect((await call(tg, "/services?tags=tri&size=1000")).body).toEqual({
      data: having((t) => t.includes("tri")),
      next: null,
    });
  });

  test("a,b is AND", async () => {
    expect((await call(tg, "/services?tags=even,tri&size=1000")).body).toEqual({
      data: having((t) => t.includes("even") && t.includes("tri")),
      next: null,
    });
  });

  test("a/b is OR", async () => {
    expect((await call(tg, "/services?tags=x-1/x-2/x-99&size=1000")).body).toEqual({
      data: having((t) => ["x-1", "x-2", "x-99"].some((x) => t.includes(x))),
      next: null,
    });
  });

  test("no match is an empty array", async () => {
    expect((await call(tg, "/services?tags=nobody")).body).toEqual({ data: [], next: null });
    expect((await call(tg, "/services?tags=odd,even")).body).toEqual({ data: [], next: null });
  });

  test("a filtered walk keeps tags then size in next", async () => {
    const expected = having((t) => t.includes("odd") || t.includes("tri"));
    const pages = await walk("/services?tags=odd/tri&size=9");
    expect(pages.flatMap((p) => p.data)).toEqual(expected);
    expect(pages.length).toBe(Math.ceil(expected.length / 9));
    for (const page of pages.slice(0, -1))
      expect(page.next).toBe(`/services?offset=${encodeURIComponent(page.offset!)}&tags=odd%2Ftri&size=9`);
  });

  test("five tags is the maximum", async () => {
    const res = await call(tg, "/services?tags=x-1/x-2/x-3/x-4/x-5");
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBe(5);
  });
});

describe("invalid list arguments", () => {
  const cases: [string, number, string][] = [
    ["size=abc", 9, "size must be a number"],
    ["size=", 9, "size must be a number"],
    ["size=0", 9, "size must be an integer between 1 and 1000"],
    ["size=-1", 9, "size must be an integer between 1 and 1000"],
    ["size=1001", 9, "size must be an integer between 1 and 1000"],
    ["size=1.5", 9, "size must be an integer between 1 and 1000"],
    ["offset=!!", 7, "'!!' is not a valid offset: bad base64 encoding"],
    ["offset=YWJj", 7, "'YWJj' is not a valid offset: bad base64 encoding"],
    ["tags=", 11, "invalid option (tags: cannot be null)"],
    ["tags=a,b/c", 11, "invalid option (tags: invalid filter syntax)"],
    ["tags=a,,b", 11, "invalid option (tags: invalid filter syntax)"],
    ["tags=a%20b", 11, "invalid option (tags: invalid filter syntax)"],
    ["tags=a,b,c,d,e,f", 11, "invalid option (tags: cannot query more than 5 tags)"],
  ];
  const names: Record<number, string> = { 7: "invalid offset", 9: "invalid size", 11: "invalid options" };
  for (const [query, code, message] of cases)
    test(query, async () => {
      for (const path of ["/services", "/routes", "/services/svc-1/routes"]) {
        const res = await call(tg, `${path}?${query}`);
        expect({ path, status: res.status, body: res.body }).toEqual({
          path,
          status: 400,
          body: { code, name: names[code], message },
        });
      }
    });
});

describe("nested and route lists", () => {
  test("an empty collection renders data as an array", async () => {
    expect((await call(tg, "/routes")).body).toEqual({ data: [], next: null });
    expect((await call(tg, "/services/svc-0/routes")).body).toEqual({ data: [], next: null });
  });

  test("a nested walk: next keeps the parent key as given and drops size", async () => {
    const parent = all.find((s) => s.name === "svc-5")!;
    const routes = [];
    for (let i = 0; i < 5; i++) {
      const res = await call(tg, "/services/svc-5/routes", { method: "POST", body: { paths: [`/n${i}`] } });
      routes.push(res.body);
    }
    // a route elsewhere must not show up
    await call(tg, "/services/svc-6/routes", { method: "POST", body: { paths: ["/elsewhere"] } });
    routes.sort((a, b) => (a.id < b.id ? -1 : 1));
    const first = await call(tg, "/services/svc-5/routes?size=2");
    expect(first.body).toEqual({
      data: routes.slice(0, 2),
      offset: first.body.offset,
      next: `/services/svc-5/routes?offset=${encodeURIComponent(first.body.offset)}`,
    });
    // Kong drops size from nested next links, so following it returns the rest at the default size.
    const rest = await call(tg, first.body.next);
    expect(rest.body).toEqual({ data: routes.slice(2), next: null });
    const byId = await call(tg, `/services/${parent.id}/routes?size=3`);
    expect(byId.body.next).toBe(
      `/services/${parent.id}/routes?offset=${encodeURIComponent(byId.body.offset)}`,
    );
    const top = await walk("/routes?size=4");
    expect(top.flatMap((p) => p.data).length).toBe(6);
  });
});

describe("GET /tags and /tags/{tag} (Kong's tag listing)", () => {
  test("/tags/{tag} lists every entity carrying the tag, whatever its kind", async () => {
    const route = await call(tg, "/routes", {
      method: "POST",
      body: { paths: ["/tagged"], tags: ["x-3", "r"] },
    });
    const res = await call(tg, "/tags/x-3");
    expect(res.status).toBe(200);
    const svc = all.find((s) => s.name === "svc-3")!;
    expect(res.body.data).toEqual([
      { entity_name: "routes", entity_id: route.body.id, tag: "x-3" },
      { entity_name: "services", entity_id: svc.id, tag: "x-3" },
    ]);
    expect(res.body.next).toBeNull();
    expect(res.body.offset).toBeUndefined();
    expect((await call(tg, "/tags/nobody-has-this")).body).toEqual({ data: [], next: null });
    await call(tg, `/routes/${route.body.id}`, { method: "DELETE" });
  });

  test("/tags pages through every (entity, tag) pair with offset and next", async () => {
    const rows: { entity_name: string; entity_id: string; tag: string }[] = [];
    const pages = await walk("/tags?size=100");
    for (const page of pages) rows.push(...(page.data as unknown as typeof rows));
    const expected = all.flatMap((s) =>
      (s.tags ?? []).map((tag) => ({ entity_name: "services", entity_id: s.id, tag })),
    );
    expect(rows.length).toBe(expected.length);
    expect(new Set(rows.map((r) => JSON.stringify(r)))).toEqual(
      new Set(expected.map((r) => JSON.stringify(r))),
    );
    expect(pages[0]!.next).toStartWith("/tags?offset=");
    expect(pages[0]!.next).toEndWith("&size=100");
  });

  test("a bad size or offset is Kong's error", async () => {
    expect((await call(tg, "/tags?size=0")).body).toEqual({
      code: 9,
      name: "invalid size",
      message: "size must be an integer between 1 and 1000",
    });
    expect((await call(tg, "/tags/all?offset=!!")).body).toEqual({
      code: 7,
      name: "invalid offset",
      message: "'!!' is not a valid offset: bad base64 encoding",
    });
  });
});
