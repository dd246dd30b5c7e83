// Pure logic: parsing trusted ranges and reading the real-IP header.
import { describe, expect, test } from "bun:test";
import { compileTrustedIps, realClientIp, TrustedIpsError } from "../../src/proxy/trusted-ips.ts";

describe("compileTrustedIps", () => {
  test("an empty list trusts nobody", () => {
    expect(compileTrustedIps("")).toBeNull();
    expect(compileTrustedIps(" , ")).toBeNull();
  });

  test("addresses and CIDR ranges, IPv4 and IPv6, including IPv4-mapped peers", () => {
    const trusted = compileTrustedIps("10.0.0.0/8, 192.168.1.5, 2001:db8::/32, ::1")!;
    expect(trusted("10.200.3.4")).toBe(true);
    expect(trusted("11.0.0.1")).toBe(false);
    expect(trusted("192.168.1.5")).toBe(true);
    expect(trusted("192.168.1.6")).toBe(false);
    expect(trusted("2001:db8:1::9")).toBe(true);
    expect(trusted("2001:db9::1")).toBe(false);
    expect(trusted("::1")).toBe(true);
    expect(trusted("::ffff:10.1.2.3")).toBe(true);
    expect(trusted("::ffff:11.1.2.3")).toBe(false);
    expect(trusted("")).toBe(false);
  });

  test("0.0.0.0/0 and ::/0 trust everyone", () => {
    const all = compileTrustedIps("0.0.0.0/0,::/0")!;
    expect(all("8.8.8.8")).toBe(true);
    expect(all("2606:4700::1111")).toBe(true);
  });

  test.each(["10.0.0.0/33", "::/129", "example.com", "10.0.0.1/8/1", "10.0.0.0/x", "300.1.1.1"])(
    "%p is refused",
    (entry) => {
      expect(() => compileTrustedIps(entry)).toThrow(
        new TrustedIpsError(`'${entry}' is not an IP address or CIDR range`),
      );
    },
  );
});

describe("realClientIp", () => {
  test("a single address, the last of a list, or null when absent or not an address", () => {
    expect(realClientIp(new Headers({ "x-real-ip": "203.0.113.7" }), "x-real-ip")).toBe("203.0.113.7");
    expect(realClientIp(new Headers({ xff: "1.1.1.1, 2001:db8::2" }), "xff")).toBe("2001:db8::2");
    expect(realClientIp(new Headers(), "x-real-ip")).toBeNull();
    expect(realClientIp(new Headers({ "x-real-ip": "unknown" }), "x-real-ip")).toBeNull();
  });
});
