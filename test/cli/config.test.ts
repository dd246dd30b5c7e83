// Boot configuration: flags, environment variables, precedence and errors (pure logic).
import { describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { ConfigError, DEFAULTS, loadConfig } from "../../src/runtime/config.ts";

const plain = { ssl: false, http2: false, http3: false };

describe("loadConfig", () => {
  test("defaults follow Kong: proxy on all interfaces, admin on loopback, ./portico.db", () => {
    const config = loadConfig([], {});
    expect(config).toEqual({
      command: "start",
      configCommand: null,
      declarativeConfig: null,
      substitutions: {},
      proxyListen: [{ host: "0.0.0.0", port: 8000, ...plain }],
      adminListen: { host: "127.0.0.1", port: 8001, ...plain },
      statusListen: null,
      database: "./portico.db",
      serviceManagement: true,
      proxyBodyLimit: DEFAULTS.proxyBodyLimit,
      trustedIps: null,
      trustedIpsSpec: "",
      workers: availableParallelism(),
      realIpHeader: "X-Real-IP",
      accessLog: null,
      accessLogFormat: "combined",
      adminAccessLog: null,
      errorLog: "stderr",
      logLevel: "notice",
      logBuffer: 4 * 1024 * 1024,
      sslCert: null,
    });
  });

  test("logs: --access-log, --access-log-format, --admin-access-log, --error-log, --log-level, --log-buffer and their env", () => {
    const env = {
      PORTICO_ACCESS_LOG: "stdout",
      PORTICO_ACCESS_LOG_FORMAT: "json",
      PORTICO_ADMIN_ACCESS_LOG: "/var/log/portico/admin.log",
      PORTICO_ERROR_LOG: "/var/log/portico/error.log",
      PORTICO_LOG_LEVEL: "debug",
      PORTICO_LOG_BUFFER: "64k",
    };
    expect(loadConfig([], env)).toMatchObject({
      accessLog: "stdout",
      accessLogFormat: "json",
      adminAccessLog: "/var/log/portico/admin.log",
      errorLog: "/var/log/portico/error.log",
      logLevel: "debug",
      logBuffer: 64 * 1024,
    });
    expect(
      loadConfig(
        [
          "--access-log",
          "off",
          "--access-log-format",
          "combined",
          "--admin-access-log",
          "off",
          "--log-level",
          "WARN",
        ],
        env,
      ),
    ).toMatchObject({ accessLog: null, accessLogFormat: "combined", adminAccessLog: null, logLevel: "warn" });
  });

  test("--workers: auto is one per core, a count from 1 to 64, PORTICO_WORKERS likewise", () => {
    expect(loadConfig(["--workers", "auto"], {}).workers).toBe(availableParallelism());
    expect(loadConfig(["--workers", "3"], {}).workers).toBe(3);
    expect(loadConfig([], { PORTICO_WORKERS: "1" }).workers).toBe(1);
    expect(loadConfig(["--workers", "2"], { PORTICO_WORKERS: "1" }).workers).toBe(2);
  });

  test("every flag has an environment variable, and flags win over env", () => {
    const env = {
      PORTICO_PROXY_LISTEN: "127.0.0.1:9000",
      PORTICO_ADMIN_LISTEN: "127.0.0.1:9001",
      PORTICO_STATUS_LISTEN: "127.0.0.1:9002",
      PORTICO_DATABASE: "/tmp/env.db",
      PORTICO_SERVICE_MANAGEMENT: "off",
      PORTICO_PROXY_BODY_LIMIT: "1m",
      PORTICO_TRUSTED_IPS: "10.0.0.0/8",
      PORTICO_REAL_IP_HEADER: "X-Forwarded-For",
    };
    const fromEnv = loadConfig([], env);
    expect(fromEnv.proxyListen).toEqual([{ host: "127.0.0.1", port: 9000, ...plain }]);
    expect(fromEnv.adminListen).toEqual({ host: "127.0.0.1", port: 9001, ...plain });
    expect(fromEnv.statusListen).toEqual({ host: "127.0.0.1", port: 9002, ...plain });
    expect(loadConfig(["--status-listen", "off"], env).statusListen).toBeNull();
    expect(loadConfig(["--status-listen", "0.0.0.0:8100"], env).statusListen).toEqual({
      host: "0.0.0.0",
      port: 8100,
      ...plain,
    });
    expect(fromEnv.database).toBe("/tmp/env.db");
    expect(fromEnv.serviceManagement).toBe(false);
    expect(fromEnv.proxyBodyLimit).toBe(1024 * 1024);
    expect(fromEnv.trustedIps?.("10.1.2.3")).toBe(true);
    expect(fromEnv.trustedIps?.("127.0.0.1")).toBe(false);
    expect(fromEnv.realIpHeader).toBe("X-Forwarded-For");
    const trustFlag = loadConfig(["--trusted-ips", "127.0.0.1", "--real-ip-header", "CF-Connecting-IP"], env);
    expect(trustFlag.trustedIps?.("127.0.0.1")).toBe(true);
    expect(trustFlag.trustedIps?.("10.1.2.3")).toBe(false);
    expect(trustFlag.realIpHeader).toBe("CF-Connecting-IP");

    const fromFlags = loadConfig(
      ["start", "--proxy-listen", "[::1]:7000", "--admin-listen", "localhost:7001", "--database", ":memory:"],
      env,
    );
    expect(fromFlags.proxyListen).toEqual([{ host: "::1", port: 7000, ...plain }]);
    expect(fromFlags.adminListen).toEqual({ host: "localhost", port: 7001, ...plain });
    expect(fromFlags.database).toBe(":memory:");
  });

  test("--proxy-listen takes Kong's list of listeners with ssl, http2 and http3 flags", () => {
    const config = loadConfig(["--proxy-listen", "0.0.0.0:8000, 0.0.0.0:8443 ssl http2 http3"], {});
    expect(config.proxyListen).toEqual([
      { host: "0.0.0.0", port: 8000, ...plain },
      { host: "0.0.0.0", port: 8443, ssl: true, http2: true, http3: true },
    ]);
    expect(loadConfig([], { PORTICO_PROXY_LISTEN: "[::]:8443 ssl" }).proxyListen).toEqual([
      { host: "::", port: 8443, ...plain, ssl: true },
    ]);
    expect(loadConfig(["--admin-listen", "127.0.0.1:8444 ssl http2"], {}).adminListen).toEqual({
      host: "127.0.0.1",
      port: 8444,
      ssl: true,
      http2: true,
      http3: false,
    });
    expect(() => loadConfig(["--proxy-listen", "0.0.0.0:8443 tls"], {})).toThrow(
      "--proxy-listen: unknown flag 'tls' in '0.0.0.0:8443 tls' (expected ssl, http2, http3)",
    );
    expect(() => loadConfig(["--proxy-listen", "0.0.0.0:8443 http3"], {})).toThrow(
      "--proxy-listen: http3 needs ssl in '0.0.0.0:8443 http3'",
    );
    expect(() => loadConfig(["--proxy-listen", "0.0.0.0:8000, nowhere"], {})).toThrow(
      "--proxy-listen: expected HOST:PORT [ssl] [http2] [http3], got 'nowhere'",
    );
    expect(() => loadConfig(["--admin-listen", "127.0.0.1:1, 127.0.0.1:2"], {})).toThrow(
      "--admin-listen: expected one HOST:PORT [ssl] [http2], got '127.0.0.1:1, 127.0.0.1:2'",
    );
  });

  test("--ssl-cert and --ssl-cert-key name the default certificate's files, together", () => {
    expect(loadConfig(["--ssl-cert", "/a.crt", "--ssl-cert-key", "/a.key"], {}).sslCert).toEqual({
      cert: "/a.crt",
      key: "/a.key",
    });
    expect(loadConfig([], { PORTICO_SSL_CERT: "/b.crt", PORTICO_SSL_CERT_KEY: "/b.key" }).sslCert).toEqual({
      cert: "/b.crt",
      key: "/b.key",
    });
    expect(() => loadConfig(["--ssl-cert", "/a.crt"], {})).toThrow(
      "--ssl-cert and --ssl-cert-key (PORTICO_SSL_CERT, PORTICO_SSL_CERT_KEY) go together",
    );
  });

  test("--no-service-management turns the seed URLs off; the env switch accepts on/off", () => {
    expect(loadConfig(["--no-service-management"], {}).serviceManagement).toBe(false);
    expect(loadConfig([], { PORTICO_SERVICE_MANAGEMENT: "ON" }).serviceManagement).toBe(true);
    expect(() => loadConfig([], { PORTICO_SERVICE_MANAGEMENT: "maybe" })).toThrow(
      "PORTICO_SERVICE_MANAGEMENT: expected on or off",
    );
  });

  test("commands and their flags", () => {
    expect(loadConfig(["migrate"], {}).command).toBe("migrate");
    expect(loadConfig(["--help"], {}).command).toBe("help");
    expect(loadConfig(["-v"], {}).command).toBe("version");
  });

  test.each([
    [["--proxy-listen", "8000"], "--proxy-listen: expected HOST:PORT [ssl] [http2] [http3], got '8000'"],
    [
      ["--admin-listen", "127.0.0.1:70000"],
      "--admin-listen: expected HOST:PORT [ssl] [http2] [http3], got '127.0.0.1:70000'",
    ],
    [["--status-listen", "8100"], "--status-listen: expected HOST:PORT [ssl] [http2] [http3], got '8100'"],
    [["--database", ""], "--database: expected a path or a postgres:// URL"],
    [["--proxy-body-limit", "lots"], "--proxy-body-limit: expected a size such as 128m, got 'lots'"],
    [["--workers", "0"], "--workers: expected auto or a number from 1 to 64, got '0'"],
    [["--workers", "many"], "--workers: expected auto or a number from 1 to 64, got 'many'"],
    [
      ["--trusted-ips", "10.0.0.0/8,intranet"],
      "--trusted-ips: 'intranet' is not an IP address or CIDR range",
    ],
    [["--real-ip-header", "x real ip"], "--real-ip-header: 'x real ip' is not a header name"],
    [["--access-log-format", "common"], "--access-log-format: expected combined or json"],
    [
      ["--log-level", "verbose"],
      "--log-level: expected one of debug, info, notice, warn, error, crit, alert, emerg",
    ],
    [["--error-log", "off"], "--error-log: the error log cannot be off (use a path, stdout or stderr)"],
    [["--access-log", " x.log"], "--access-log: expected off, stdout, stderr or a path"],
    [["--log-buffer", "much"], "--log-buffer: expected a size such as 128m, got 'much'"],
    [["serve"], "unknown command 'serve' (expected one of: start, migrate, version, config)"],
    [["start", "extra"], "unexpected argument 'extra'"],
  ])("%p is refused with a clear message", (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(new ConfigError(message));
  });

  test("unknown flags are refused", () => {
    expect(() => loadConfig(["--bogus"], {})).toThrow(ConfigError);
  });

  test("a bad environment value names the variable", () => {
    expect(() => loadConfig([], { PORTICO_ADMIN_LISTEN: "nope" })).toThrow(
      "PORTICO_ADMIN_LISTEN: expected HOST:PORT [ssl] [http2] [http3], got 'nope'",
    );
  });
});
