// Black-box: a route regex that backtracks catastrophically on JavaScript's engine (`(a+)+$`) must not freeze
// the proxy: a hostile path is answered at once, the route still matches what it should, with its captures.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { admin, startUpstream, type Upstream } from "./helpers.ts";

let tg: TestGateway;
let up: Upstream;

beforeAll(async () => {
  tg = await startTestGateway();
  up = startUpstream();
  const service = await admin(tg, "POST", "/services", { name: "redos", url: `${up.url}/up` });
  await admin(tg, "POST", `/services/${service.id}/routes`, { paths: ["~/(?<word>a+)+$"] });
  await admin(tg, "POST", `/services/${service.id}/routes`, {
    paths: ["/h"],
    headers: { "x-probe": ["~*(ab+)+c"] },
  });
  await tg.gateway.synced();
});

afterAll(async () => {
  await tg.stop();
  await up.stop();
});

test("a path that would backtrack for hours is answered at once; a matching one is proxied", async () => {
  // Before: seconds per request at 30 characters, beyond any test timeout at this length.
  const hostile = await tg.proxy(`/${"a".repeat(4000)}!`);
  expect(hostile.status).toBe(404);
  await hostile.arrayBuffer();
  const matching = await tg.proxy("/aaaa");
  expect(matching.status).toBe(200);
  await matching.arrayBuffer();
  expect(up.received.at(-1)!.path).toBe("/up");
});

test("a header regex of the same shape, against a long hostile value", async () => {
  // Before: seconds per request at 30 characters, beyond any test timeout at this length.
  const hostile = await tg.proxy("/h", { headers: { "x-probe": `${"ab".repeat(4000)}x` } });
  expect(hostile.status).toBe(404);
  await hostile.arrayBuffer();
  const matching = await tg.proxy("/h", { headers: { "x-probe": "xxABBC" } });
  expect(matching.status).toBe(200);
  await matching.arrayBuffer();
});
