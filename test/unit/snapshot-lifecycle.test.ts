// A snapshot's plugin instances are released once, after it is retired and its last request has left; the
// release waits for a later turn (the deferral is injected here), except when a stopping node asks for it now.
import { describe, expect, test } from "bun:test";
import { SnapshotLifecycle } from "../../src/proxy/snapshot.ts";

function lifecycle() {
  const deferred: (() => void)[] = [];
  let releases = 0;
  const life = new SnapshotLifecycle(
    () => releases++,
    (run) => deferred.push(run),
  );
  const runDeferred = () => {
    for (const run of deferred.splice(0)) run();
  };
  return { life, deferred, runDeferred, releases: () => releases };
}

describe("SnapshotLifecycle", () => {
  test("requests on a serving snapshot never release it, and schedule nothing", () => {
    const { life, deferred, releases } = lifecycle();
    life.enter();
    life.enter();
    life.leave();
    life.leave();
    expect(deferred).toHaveLength(0);
    expect(releases()).toBe(0);
  });

  test("retired while requests run: released after the last one leaves, in a later turn", () => {
    const { life, deferred, runDeferred, releases } = lifecycle();
    life.enter();
    life.enter();
    life.retire();
    expect(deferred).toHaveLength(0);
    life.leave();
    expect(deferred).toHaveLength(0);
    life.leave();
    expect(releases()).toBe(0);
    expect(deferred).toHaveLength(1);
    runDeferred();
    expect(releases()).toBe(1);
  });

  test("retired while idle: released in a later turn, once, however often it is retired", () => {
    const { life, deferred, runDeferred, releases } = lifecycle();
    life.retire();
    life.retire();
    expect(releases()).toBe(0);
    expect(deferred).toHaveLength(1);
    runDeferred();
    expect(releases()).toBe(1);
    life.retire();
    expect(deferred).toHaveLength(0);
    expect(releases()).toBe(1);
  });

  test("a stopping node's retirement releases an idle snapshot at once", () => {
    const { life, deferred, releases } = lifecycle();
    life.retire(true);
    expect(releases()).toBe(1);
    expect(deferred).toHaveLength(0);
  });

  test("a stopping node's retirement with a request running waits for it to leave", () => {
    const { life, runDeferred, releases } = lifecycle();
    life.enter();
    life.retire(true);
    expect(releases()).toBe(0);
    life.leave();
    runDeferred();
    expect(releases()).toBe(1);
  });

  test("a request that enters before the deferred release runs postpones it to its own leaving", () => {
    const { life, deferred, runDeferred, releases } = lifecycle();
    life.retire();
    life.enter();
    runDeferred();
    expect(releases()).toBe(0);
    life.leave();
    expect(deferred).toHaveLength(1);
    runDeferred();
    expect(releases()).toBe(1);
  });

  test("leave works detached from the object (it is handed to finally as is)", async () => {
    const { life, runDeferred, releases } = lifecycle();
    life.enter();
    life.retire();
    await Promise.resolve().finally(life.leave);
    runDeferred();
    expect(releases()).toBe(1);
  });

  test("the default deferral is a timer turn", async () => {
    let released = false;
    const life = new SnapshotLifecycle(() => {
      released = true;
    });
    life.retire();
    await Promise.resolve();
    expect(released).toBe(false);
    await Bun.sleep(5);
    expect(released).toBe(true);
  });
});
