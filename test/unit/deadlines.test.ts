import { afterEach, describe, expect, test } from "bun:test";
import { DeadlineWatch, type WatchedCall } from "../../src/proxy/deadlines.ts";

let clock = 0;
const watches: DeadlineWatch[] = [];
function watch(): DeadlineWatch {
  const w = new DeadlineWatch(25, () => clock);
  watches.push(w);
  return w;
}
afterEach(() => {
  for (const w of watches.splice(0)) w.stop();
  clock = 0;
});

function call(deadline: number, client = new AbortController().signal) {
  const ended: string[] = [];
  const c: WatchedCall = { deadline, client, end: (reason) => ended.push(reason), watchSlot: -1 };
  return { c, ended };
}

describe("DeadlineWatch", () => {
  test("ends a call once its deadline has passed, not before, and only once", () => {
    const w = watch();
    const { c, ended } = call(100);
    w.add(c);
    clock = 99;
    w.tick();
    expect(ended).toEqual([]);
    clock = 100;
    w.tick();
    expect(ended).toEqual(["timeout"]);
    clock = 500;
    w.tick();
    expect(ended).toEqual(["timeout"]);
    expect(w.size).toBe(0);
  });

  test("a call whose client went away is ended as client-gone, before its deadline", () => {
    const w = watch();
    const client = new AbortController();
    const { c, ended } = call(10_000, client.signal);
    w.add(c);
    w.tick();
    expect(ended).toEqual([]);
    client.abort();
    w.tick();
    expect(ended).toEqual(["client-gone"]);
  });

  test("a call deleted before its deadline is never ended", () => {
    const w = watch();
    const { c, ended } = call(10);
    w.add(c);
    w.delete(c);
    clock = 1000;
    w.tick();
    expect(ended).toEqual([]);
  });

  test("only the due calls of several are ended", () => {
    const w = watch();
    const early = call(10);
    const late = call(1000);
    w.add(early.c);
    w.add(late.c);
    clock = 50;
    w.tick();
    expect(early.ended).toEqual(["timeout"]);
    expect(late.ended).toEqual([]);
    expect(w.size).toBe(1);
  });

  test("the real timer ends a due call by itself", async () => {
    const w = new DeadlineWatch(5);
    watches.push(w);
    const { c, ended } = call(performance.now() + 20);
    w.add(c);
    for (let i = 0; i < 200 && ended.length === 0; i++) await Bun.sleep(5);
    expect(ended).toEqual(["timeout"]);
  });

  test("calls added and deleted in any order: the due ones, and only those, are ended once", () => {
    const w = watch();
    const calls = Array.from({ length: 20 }, (_, i) => call(i % 2 === 0 ? 10 : 1000));
    for (const { c } of calls) w.add(c);
    w.add(calls[3]!.c); // already watched: nothing changes
    for (const i of [0, 19, 7, 8, 1]) w.delete(calls[i]!.c);
    w.delete(calls[0]!.c); // no longer watched: nothing happens
    expect(w.size).toBe(15);
    clock = 50;
    w.tick();
    for (const [i, { c, ended }] of calls.entries()) {
      const deleted = [0, 19, 7, 8, 1].includes(i);
      expect(ended).toEqual(!deleted && i % 2 === 0 ? ["timeout"] : []);
      expect(c.watchSlot >= 0).toBe(!deleted && i % 2 === 1);
    }
    expect(w.size).toBe(7);
    clock = 5000;
    w.tick();
    expect(w.size).toBe(0);
    expect(calls.every(({ ended }) => ended.length <= 1)).toBe(true);
  });

  test("a call ended by a tick may delete other calls", () => {
    const w = watch();
    const others = [call(10_000), call(10_000), call(10_000)];
    for (const o of others) w.add(o.c);
    const ended: string[] = [];
    const first: WatchedCall = {
      deadline: 10,
      client: new AbortController().signal,
      watchSlot: -1,
      end(reason) {
        ended.push(reason);
        for (const o of others) w.delete(o.c);
      },
    };
    w.add(first);
    w.add(call(10_000).c);
    clock = 20;
    w.tick();
    expect(ended).toEqual(["timeout"]);
    expect(others.every((o) => o.ended.length === 0 && o.c.watchSlot === -1)).toBe(true);
    expect(w.size).toBe(1);
  });
});
