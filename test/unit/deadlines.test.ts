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
  const c: WatchedCall = { deadline, client, end: (reason) => ended.push(reason) };
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
});
