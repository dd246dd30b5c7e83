// A log record's sizes: the response's header bytes are each header line as it goes out (`name: value\r\n`),
// every Set-Cookie on a line of its own and other repeated names joined as the Headers hold them — the same
// count as walking the Headers entry by entry, which is what the record is checked against here.
import { describe, expect, test } from "bun:test";
import { Transaction } from "../../src/proxy/transaction.ts";

/** The reference: one line per entry of the Headers' own iteration, plus the status line and the body. */
function walked(headers: Headers, body: number): number {
  let size = 17;
  for (const [name, value] of headers) size += name.length + value.length + 4;
  return size + body;
}

function transaction(): Transaction {
  const request = new Request("http://gateway.test/x?y=1", {
    headers: { host: "gateway.test", "user-agent": "curl/8", accept: "*/*" },
  });
  return new Transaction(request, "id-1", "GET", 0, "/x?y=1", "203.0.113.9", "http", "8000");
}

describe("Transaction.responseSize", () => {
  test("counts every header line and the body", () => {
    const tx = transaction();
    const headers = new Headers({
      "content-type": "text/plain",
      "content-length": "100",
      via: "1.1 portico",
    });
    tx.responseHeaders = headers;
    tx.bodySize = 100;
    expect(tx.responseSize).toBe(walked(headers, 100));
    expect(tx.responseSize).toBe(
      17 +
        "content-type: text/plain\r\n".length +
        "content-length: 100\r\n".length +
        "via: 1.1 portico\r\n".length +
        100,
    );
  });

  test("each Set-Cookie is a line of its own; other repeated names are one joined line", () => {
    const tx = transaction();
    const headers = new Headers();
    headers.append("set-cookie", "a=1; Path=/");
    headers.append("set-cookie", "session=abcdef; HttpOnly; Secure");
    headers.append("vary", "Origin");
    headers.append("vary", "Accept-Encoding");
    headers.set("x-ratelimit-remaining-second", "41");
    tx.responseHeaders = headers;
    tx.bodySize = 7;
    expect(tx.responseSize).toBe(walked(headers, 7));
    expect(tx.responseSize).toBe(
      17 +
        "set-cookie: a=1; Path=/\r\n".length +
        "set-cookie: session=abcdef; HttpOnly; Secure\r\n".length +
        "vary: Origin, Accept-Encoding\r\n".length +
        "x-ratelimit-remaining-second: 41\r\n".length +
        7,
    );
  });

  test("a response without headers yet counts the status line and the body", () => {
    const tx = transaction();
    tx.bodySize = 3;
    expect(tx.responseSize).toBe(20);
  });
});
