// Black-box: credential rotation under traffic. While bounded loops of requests run, a new key starts working
// and a revoked one stops working within 50 ms of the admin call returning; no request fails otherwise.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { admin, type PluginWorld, startWorld } from "./helpers.ts";

let w: PluginWorld;
const WINDOW_MS = 50;

/** One request of the traffic loop: when it was sent, when its answer was complete, what it got. */
type Sample = { key: string; sentAt: number; doneAt: number; status: number };

beforeAll(async () => {
  w = await startWorld();
  await w.consumer({ username: "rotor" });
  await admin(w.tg, "POST", "/consumers/rotor/key-auth", { key: "rotation-key-old" });
  const { routes } = await w.service("rotation", ["/rot"]);
  await admin(w.tg, "POST", `/routes/${routes[0]}/plugins`, {
    name: "key-auth",
    config: { hide_credentials: true },
  });
  await w.synced();
});

afterAll(() => w.stop());

/** Runs `workers` loops sending each key in turn until `stop()`; bounded by `maxRequests` per loop. */
function traffic(keys: string[], workers = 4, maxRequests = 5000) {
  const samples: Sample[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    for (let i = 0; running && i < maxRequests; i++) {
      const key = keys[i % keys.length]!;
      const sentAt = performance.now();
      const res = await w.tg.proxy("/rot", { headers: { apikey: key } });
      await res.arrayBuffer();
      samples.push({ key, sentAt, doneAt: performance.now(), status: res.status });
    }
  });
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Waits until `n` samples were recorded after `since` (bounded). */
async function samplesAfter(samples: Sample[], since: number, n: number): Promise<void> {
  for (let i = 0; i < 400 && samples.filter((s) => s.sentAt > since).length < n; i++) await Bun.sleep(5);
}

test("a new key works and a revoked key stops within 50 ms of the admin call, under traffic", async () => {
  const load = traffic(["rotation-key-old", "rotation-key-new"]);
  try {
    await samplesAfter(load.samples, 0, 40);

    const adding = performance.now();
    await admin(w.tg, "POST", "/consumers/rotor/key-auth", { key: "rotation-key-new" });
    const added = performance.now();
    await samplesAfter(load.samples, added + WINDOW_MS, 40);

    const revoking = performance.now();
    await admin(w.tg, "DELETE", "/consumers/rotor/key-auth/rotation-key-old");
    const revoked = performance.now();
    await samplesAfter(load.samples, revoked + WINDOW_MS, 40);
    await load.stop();

    const statuses = new Set(load.samples.map((s) => s.status));
    expect([...statuses].sort()).toEqual([200, 401]);
    const late = (key: string, after: number) =>
      load.samples.filter((s) => s.key === key && s.sentAt >= after);
    // The new key: refused before it existed, accepted from 50 ms after its creation on.
    expect(
      load.samples
        .filter((s) => s.key === "rotation-key-new" && s.doneAt < adding)
        .every((s) => s.status === 401),
    ).toBe(true);
    expect(late("rotation-key-new", added + WINDOW_MS).every((s) => s.status === 200)).toBe(true);
    expect(late("rotation-key-new", added + WINDOW_MS).length).toBeGreaterThan(10);
    // The old key: accepted until its deletion was requested, refused from 50 ms after the call returned.
    expect(
      load.samples
        .filter((s) => s.key === "rotation-key-old" && s.doneAt < revoking)
        .every((s) => s.status === 200),
    ).toBe(true);
    const afterRevocation = late("rotation-key-old", revoked + WINDOW_MS);
    expect(afterRevocation.length).toBeGreaterThan(10);
    expect(afterRevocation.filter((s) => s.status !== 401)).toEqual([]);
  } finally {
    await load.stop();
  }
});

test("changing a key's value through PATCH swaps which value works within 50 ms", async () => {
  const credential = await admin(w.tg, "POST", "/consumers/rotor/key-auth", { key: "patched-key-a" });
  await w.synced();
  const load = traffic(["patched-key-a", "patched-key-b"]);
  try {
    await samplesAfter(load.samples, 0, 20);
    const requested = performance.now();
    await admin(w.tg, "PATCH", `/key-auths/${credential.id}`, { key: "patched-key-b" });
    const changed = performance.now();
    await samplesAfter(load.samples, changed + WINDOW_MS, 40);
    await load.stop();
    const after = load.samples.filter((s) => s.sentAt >= changed + WINDOW_MS);
    expect(after.filter((s) => s.key === "patched-key-a" && s.status !== 401)).toEqual([]);
    expect(after.filter((s) => s.key === "patched-key-b" && s.status !== 200)).toEqual([]);
    // Answered before the change was even requested: the old value still worked.
    const before = load.samples.filter((s) => s.doneAt < requested);
    expect(before.length).toBeGreaterThan(10);
    expect(before.filter((s) => s.key === "patched-key-a" && s.status !== 200)).toEqual([]);
    expect(before.filter((s) => s.key === "patched-key-b" && s.status !== 401)).toEqual([]);
  } finally {
    await load.stop();
  }
});

test("a refused key never appears in the gateway's answer, nor does the hidden key reach the upstream", async () => {
  const refused = await w.call("/rot", { headers: { apikey: "rotation-key-old" } });
  expect(refused.status).toBe(401);
  expect(refused.text).not.toContain("rotation-key-old");
  const echo = await w.pass("/rot", { headers: { apikey: "rotation-key-new" } });
  expect(JSON.stringify(echo)).not.toContain("rotation-key-new");
});
