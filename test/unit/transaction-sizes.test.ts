// A log record whose hooks read the request's size but none of its headers (prometheus' bandwidth) counts the
// header bytes as the request arrives instead of copying them: the same size as from a full copy.
import { describe, expect, test } from "bun:test";
import { Transaction } from "../../src/proxy/transaction.ts";

const request = () =>
  new Request("http://gateway.test/upload?x=1", {
    method: "POST",
    headers: {
      host: "gateway.test",
      "content-length": "11",
      "user-agent": "curl/8.5.0",
      referer: "https://élan.example/",
      authorization: "Basic Zm9vOmJhcg==",
      accept: "a, b",
    },
    body: "hello world",
  });

const record = (kept: "all" | "sizes" | "combined+sizes") =>
  new Transaction(request(), "id", "POST", 0, "/upload?x=1", "203.0.113.9", "http", "8000", kept);

describe("a log record's request size", () => {
  test("counted without a copy of the headers: the same bytes, the body included", () => {
    const full = record("all");
    expect(full.requestBodySize).toBe(11);
    for (const kept of ["sizes", "combined+sizes"] as const) {
      const counted = record(kept);
      expect(counted.requestSize).toBe(full.requestSize);
      expect(counted.requestBodySize).toBe(11);
    }
  });

  test("a repeated Set-Cookie counts each of its lines", () => {
    const headers = new Headers({ host: "gateway.test" });
    headers.append("set-cookie", "a=1");
    headers.append("set-cookie", "b=22");
    const req = new Request("http://gateway.test/", { headers });
    const tx = new Transaction(req, "id", "GET", 0, "/", "203.0.113.9", "http", "8000", "sizes");
    const lines = [...req.headers].reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
    expect(tx.requestSize).toBe("GET".length + "/".length + 12 + lines + 2);
    expect(tx.requestBodySize).toBe(0);
  });

  test("sizes keeps no header; combined+sizes keeps the combined access log's three", () => {
    expect(record("sizes").requestHeaders).toEqual({});
    expect(record("combined+sizes").requestHeaders).toEqual({
      authorization: "Basic Zm9vOmJhcg==",
      referer: "https://élan.example/",
      "user-agent": "curl/8.5.0",
    });
  });
});
