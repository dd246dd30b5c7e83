// Boot configuration: the ONLY module that reads flags and environment variables. Flags win over env;
// defaults follow Kong (proxy 0.0.0.0:8000, admin 127.0.0.1:8001). Dynamic config lives in the store.
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { LOG_LEVELS, type LogLevel } from "../plugins/log-levels.ts";
import { compileTrustedIps, type TrustedIps, TrustedIpsError } from "../proxy/trusted-ips.ts";

/** A listener as Kong's `proxy_listen` entries: `HOST:PORT [ssl] [http2] [http3]`. */
export type Listen = { host: string; port: number; ssl: boolean; http2: boolean; http3: boolean };

const LISTEN_FLAGS = ["ssl", "http2", "http3"] as const;

/** `portico config <action> FILE…`: declarative configuration against the database or a running gateway. */
export type ConfigCommand = Readonly<{
  action: "export" | "diff" | "apply" | "validate";
  files: readonly string[];
  selectTags: readonly string[];
  format: "yaml" | "json";
  /** Where export writes (null: stdout). */
  output: string | null;
  dryRun: boolean;
  /** A running gateway's admin API to work through instead of the database. */
  adminUrl: string | null;
}>;

export type BootConfig = Readonly<{
  command: "start" | "migrate" | "help" | "version" | "config";
  /** Set for the `config` command. */
  configCommand: ConfigCommand | null;
  /** DB-less mode: the declarative file the gateway runs from (in memory, admin writes refused). */
  declarativeConfig: string | null;
  /** PORTICO_* variables, for `${{ env "PORTICO_X" }}` in declarative files. */
  substitutions: Readonly<Record<string, string>>;
  /** One or more proxy listeners (Kong's proxy_listen list). */
  proxyListen: readonly Listen[];
  adminListen: Listen;
  /** Kong's status_listen: /status, /status/ready and /metrics only; null: off. */
  statusListen: Listen | null;
  database: string;
  serviceManagement: boolean;
  /** Largest request body the proxy accepts (413 above). */
  proxyBodyLimit: number;
  /** Peers (load balancers) whose X-Forwarded-* and real-IP header are believed; null: nobody. */
  trustedIps: TrustedIps | null;
  /** The same as written (proxy worker threads compile it themselves). */
  trustedIpsSpec: string;
  /** Proxy workers (threads sharing the proxy port); 1 serves the proxy from the main thread. */
  workers: number;
  /** Header in which a trusted peer names the client's address. */
  realIpHeader: string;
  /** One line per proxied request: a file path, `stdout`/`stderr`, or null (off). */
  accessLog: string | null;
  accessLogFormat: AccessLogFormat;
  /** One line per admin API request (nginx's combined format), or null (off). */
  adminAccessLog: string | null;
  /** Where the error log goes: a file path, `stdout` or `stderr`. */
  errorLog: string;
  logLevel: LogLevel;
  /** Most bytes each log writer holds while its destination does not keep up (lines beyond are dropped). */
  logBuffer: number;
  /** The default certificate's PEM files (Kong's ssl_cert / ssl_cert_key); null: a generated one. */
  sslCert: { cert: string; key: string } | null;
}>;

export type AccessLogFormat = "combined" | "json";

/** A bad flag or value: the CLI prints the message on one line and exits with code 2. */
export class ConfigError extends Error {}

export const DEFAULTS = {
  proxyListen: "0.0.0.0:8000",
  adminListen: "127.0.0.1:8001",
  database: "./portico.db",
  proxyBodyLimit: 128 * 1024 * 1024,
  realIpHeader: "X-Real-IP",
  workers: "auto",
  accessLog: "off",
  accessLogFormat: "combined",
  adminAccessLog: "off",
  errorLog: "stderr",
  logLevel: "notice",
  logBuffer: "4m",
} as const;

// Each flag's value is checked by a plain function rather than a zod schema: they are all strings turned
// into values with messages of their own, and building zod schemas at every start cost more than the checks.

/** A flag's value that does not fit: the message follows the flag's name (`--workers: expected …`). */
class InvalidValue extends Error {}

function parseListen(entry: string): Listen {
  const [address = "", ...flags] = entry.trim().split(/\s+/);
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(address);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port > 65535)
    throw new InvalidValue(`expected HOST:PORT [ssl] [http2] [http3], got '${entry.trim()}'`);
  const listen: Listen = {
    host: match[1]!.startsWith("[") ? match[1]!.slice(1, -1) : match[1]!,
    port,
    ssl: false,
    http2: false,
    http3: false,
  };
  for (const flag of flags) {
    if (!(LISTEN_FLAGS as readonly string[]).includes(flag))
      throw new InvalidValue(
        `unknown flag '${flag}' in '${entry.trim()}' (expected ${LISTEN_FLAGS.join(", ")})`,
      );
    listen[flag as (typeof LISTEN_FLAGS)[number]] = true;
  }
  // HTTP/3 runs over QUIC, which is always TLS.
  if (listen.http3 && !listen.ssl) throw new InvalidValue(`http3 needs ssl in '${entry.trim()}'`);
  return listen;
}

/** A comma-separated list of listeners, as Kong's proxy_listen. */
function listenList(value: string): Listen[] {
  const entries = value.split(",").filter((e) => e.trim() !== "");
  if (entries.length === 0) throw new InvalidValue("expected HOST:PORT [ssl] [http2] [http3]");
  return entries.map(parseListen);
}

/** Exactly one listener (the admin and status APIs). */
function oneListen(value: string): Listen {
  if (value.includes(",")) throw new InvalidValue(`expected one HOST:PORT [ssl] [http2], got '${value}'`);
  return parseListen(value);
}

function onOff(value: string): boolean {
  const word = value.toLowerCase();
  if (!["on", "off", "true", "false", "1", "0"].includes(word)) throw new InvalidValue("expected on or off");
  return word === "on" || word === "true" || word === "1";
}

function byteSize(value: string): number {
  const match = /^(\d+)\s*([kmg]?)i?b?$/i.exec(value.trim());
  if (!match) throw new InvalidValue(`expected a size such as 128m, got '${value}'`);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

function trustedIpList(value: string): TrustedIps | null {
  try {
    return compileTrustedIps(value);
  } catch (error) {
    if (!(error instanceof TrustedIpsError)) throw error;
    throw new InvalidValue(error.message);
  }
}

function headerName(value: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) throw new InvalidValue(`'${value}' is not a header name`);
  return value;
}

/** `auto` (one per core) or a count from 1 to 64. */
function workerCount(value: string): number {
  if (value.toLowerCase() === "auto") return availableParallelism();
  const count = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(count) || count < 1 || count > 64)
    throw new InvalidValue(`expected auto or a number from 1 to 64, got '${value}'`);
  return count;
}

/** `off`, `stdout`, `stderr` or a file path; `off` → null. */
function logPath(value: string): string | null {
  if (value.trim() !== value || value === "")
    throw new InvalidValue("expected off, stdout, stderr or a path");
  return value === "off" ? null : value;
}

function oneOf<T extends string>(choices: readonly T[], message: string): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidValue(message);
    return value as T;
  };
}

const accessLogFormatOf = oneOf(["combined", "json"] as const, "expected combined or json");

const logLevelOf = oneOf(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(", ")}`);

const COMMANDS = ["start", "migrate", "help", "version", "config"] as const;
const CONFIG_ACTIONS = ["export", "diff", "apply", "validate"] as const;

export const USAGE = `Usage: portico [command] [options]

Commands:
  start      run the gateway (default)
  migrate    apply database migrations and exit
  version    print the version, the commit and date of the build, and the Bun runtime
  config export [--select-tag T]… [--format yaml|json] [-o FILE]
             write the configuration as a Kong declarative file (_format_version "3.0")
  config diff FILE… [--select-tag T]…
             print what apply would change; exit 0 when in sync, 2 when not
  config apply FILE… [--select-tag T]… [--dry-run]
             make the configuration equal to the files (within their select tags) in one transaction
  config validate FILE…
             check the files without touching anything
             (config commands use --database, or a running gateway with --admin-url URL)

Options (each also as an environment variable):
  --proxy-listen LIST          proxy listeners, comma-separated HOST:PORT with flags ssl, http2, http3,
                               e.g. "0.0.0.0:8000, 0.0.0.0:8443 ssl http2 http3"
                                                       PORTICO_PROXY_LISTEN     (default ${DEFAULTS.proxyListen})
  --admin-listen HOST:PORT     admin API listener (flags ssl, http2)
                                                       PORTICO_ADMIN_LISTEN     (default ${DEFAULTS.adminListen})
  --status-listen HOST:PORT    health and metrics listener (/status, /status/ready, /metrics)
                                                       PORTICO_STATUS_LISTEN    (default: off)
  --database PATH|URL          SQLite file, :memory:, or postgres://user:pass@host:port/db
                                                       PORTICO_DATABASE         (default ${DEFAULTS.database})
  --no-service-management      turn off the seed-library URLs (POST/DELETE /service, PATCH /services)
                                                       PORTICO_SERVICE_MANAGEMENT=off
  --proxy-body-limit SIZE      largest proxied request body, e.g. 128m
                                                       PORTICO_PROXY_BODY_LIMIT (default 128m)
  --trusted-ips LIST           addresses/CIDR ranges of load balancers whose X-Forwarded-* headers are kept,
                               e.g. 10.0.0.0/8,::1  PORTICO_TRUSTED_IPS      (default: none)
  --workers N|auto             proxy workers sharing the proxy port (threads; auto = one per core)
                                                       PORTICO_WORKERS          (default auto)
  --real-ip-header NAME        where a trusted peer names the client's address
                                                       PORTICO_REAL_IP_HEADER   (default ${DEFAULTS.realIpHeader})
  --access-log PATH|stdout|off one line per proxied request
                                                       PORTICO_ACCESS_LOG       (default ${DEFAULTS.accessLog})
  --access-log-format combined|json
                               nginx's combined plus Kong's request id, or one JSON object per line
                                                       PORTICO_ACCESS_LOG_FORMAT (default ${DEFAULTS.accessLogFormat})
  --admin-access-log PATH|stdout|off
                               one line per admin API request (combined)
                                                       PORTICO_ADMIN_ACCESS_LOG (default ${DEFAULTS.adminAccessLog})
  --error-log PATH|stdout|stderr
                               failures with their cause and request id (nginx's error-log lines)
                                                       PORTICO_ERROR_LOG        (default ${DEFAULTS.errorLog})
  --log-level LEVEL            debug, info, notice, warn, error, crit, alert or emerg
                                                       PORTICO_LOG_LEVEL        (default ${DEFAULTS.logLevel})
  --log-buffer SIZE            log bytes held per writer while a destination is slow; more are dropped
                                                       PORTICO_LOG_BUFFER       (default ${DEFAULTS.logBuffer})
  --ssl-cert FILE              default certificate (PEM, chain allowed) of the ssl listeners
                                                       PORTICO_SSL_CERT         (default: a self-signed one,
                                                       generated once and kept in the database)
  --ssl-cert-key FILE          its private key (PEM)   PORTICO_SSL_CERT_KEY
  --declarative-config FILE    DB-less mode: run from this Kong declarative file alone (in memory; the admin
                               API is read-only, POST /config replaces it, SIGHUP reloads the file)
                                                       PORTICO_DECLARATIVE_CONFIG (default: off)
  -h, --help                   show this help
  -v, --version                same as the version command
`;

function parse<T>(check: (value: string) => T, value: string, source: string): T {
  try {
    return check(value);
  } catch (error) {
    if (error instanceof InvalidValue) throw new ConfigError(`${source}: ${error.message}`);
    throw error;
  }
}

export function loadConfig(argv: readonly string[], env: Record<string, string | undefined>): BootConfig {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const word = positionals[0] ?? "start";
  if (!(COMMANDS as readonly string[]).includes(word))
    throw new ConfigError(`unknown command '${word}' (expected one of: start, migrate, version, config)`);
  if (word !== "config" && positionals.length > 1)
    throw new ConfigError(`unexpected argument '${positionals[1]}'`);
  let command = word as BootConfig["command"];
  if (values.version) command = "version";
  if (values.help) command = "help";

  const pick = (flag: string | undefined, envName: string, fallback: string) =>
    flag !== undefined
      ? { value: flag, source: `--${envName.slice("PORTICO_".length).toLowerCase().replaceAll("_", "-")}` }
      : env[envName] !== undefined && env[envName] !== ""
        ? { value: env[envName]!, source: envName }
        : { value: fallback, source: "default" };

  const proxy = pick(values["proxy-listen"], "PORTICO_PROXY_LISTEN", DEFAULTS.proxyListen);
  const admin = pick(values["admin-listen"], "PORTICO_ADMIN_LISTEN", DEFAULTS.adminListen);
  const status = pick(values["status-listen"], "PORTICO_STATUS_LISTEN", "off");
  const database = pick(values.database, "PORTICO_DATABASE", DEFAULTS.database);
  const bodyLimit = pick(
    values["proxy-body-limit"],
    "PORTICO_PROXY_BODY_LIMIT",
    String(DEFAULTS.proxyBodyLimit),
  );
  const trustedIps = pick(values["trusted-ips"], "PORTICO_TRUSTED_IPS", "");
  const realIpHeader = pick(values["real-ip-header"], "PORTICO_REAL_IP_HEADER", DEFAULTS.realIpHeader);
  const workers = pick(values.workers, "PORTICO_WORKERS", DEFAULTS.workers);
  const accessLog = pick(values["access-log"], "PORTICO_ACCESS_LOG", DEFAULTS.accessLog);
  const accessLogFormat = pick(
    values["access-log-format"],
    "PORTICO_ACCESS_LOG_FORMAT",
    DEFAULTS.accessLogFormat,
  );
  const adminAccessLog = pick(
    values["admin-access-log"],
    "PORTICO_ADMIN_ACCESS_LOG",
    DEFAULTS.adminAccessLog,
  );
  const errorLog = pick(values["error-log"], "PORTICO_ERROR_LOG", DEFAULTS.errorLog);
  const logLevel = pick(values["log-level"], "PORTICO_LOG_LEVEL", DEFAULTS.logLevel);
  const logBuffer = pick(values["log-buffer"], "PORTICO_LOG_BUFFER", DEFAULTS.logBuffer);
  const sslCert = pick(values["ssl-cert"], "PORTICO_SSL_CERT", "");
  const sslCertKey = pick(values["ssl-cert-key"], "PORTICO_SSL_CERT_KEY", "");
  if ((sslCert.value === "") !== (sslCertKey.value === ""))
    throw new ConfigError(
      "--ssl-cert and --ssl-cert-key (PORTICO_SSL_CERT, PORTICO_SSL_CERT_KEY) go together",
    );
  if (database.value === "")
    throw new ConfigError(`${database.source}: expected a path or a postgres:// URL`);

  const declarative = pick(values["declarative-config"], "PORTICO_DECLARATIVE_CONFIG", "");
  const substitutions: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (name.startsWith("PORTICO_") && value !== undefined) substitutions[name] = value;

  let serviceManagement = true;
  if (values["no-service-management"]) serviceManagement = false;
  else if (env.PORTICO_SERVICE_MANAGEMENT !== undefined && env.PORTICO_SERVICE_MANAGEMENT !== "")
    serviceManagement = parse(onOff, env.PORTICO_SERVICE_MANAGEMENT, "PORTICO_SERVICE_MANAGEMENT");

  return Object.freeze({
    command,
    configCommand: command === "config" ? configCommand(positionals.slice(1), values) : null,
    declarativeConfig: declarative.value === "" ? null : declarative.value,
    substitutions: Object.freeze(substitutions),
    proxyListen: parse(listenList, proxy.value, proxy.source),
    adminListen: parse(oneListen, admin.value, admin.source),
    statusListen: status.value === "off" ? null : parse(oneListen, status.value, status.source),
    database: database.value,
    serviceManagement,
    proxyBodyLimit: parse(byteSize, bodyLimit.value, bodyLimit.source),
    trustedIps: parse(trustedIpList, trustedIps.value, trustedIps.source),
    trustedIpsSpec: trustedIps.value,
    workers: parse(workerCount, workers.value, workers.source),
    realIpHeader: parse(headerName, realIpHeader.value, realIpHeader.source),
    accessLog: parse(logPath, accessLog.value, accessLog.source),
    accessLogFormat: parse(accessLogFormatOf, accessLogFormat.value, accessLogFormat.source),
    adminAccessLog: parse(logPath, adminAccessLog.value, adminAccessLog.source),
    errorLog: parseErrorLog(errorLog.value, errorLog.source),
    logLevel: parse(logLevelOf, logLevel.value.toLowerCase(), logLevel.source),
    logBuffer: parse(byteSize, logBuffer.value, logBuffer.source),
    sslCert: sslCert.value === "" ? null : { cert: sslCert.value, key: sslCertKey.value },
  });
}

/** The error log cannot be turned off (failures must leave a trace). */
function parseErrorLog(value: string, source: string): string {
  const path = parse(logPath, value, source);
  if (path === null)
    throw new ConfigError(`${source}: the error log cannot be off (use a path, stdout or stderr)`);
  return path;
}

function configCommand(words: string[], values: ReturnType<typeof parseFlags>["values"]): ConfigCommand {
  const action = words[0];
  if (action === undefined || !(CONFIG_ACTIONS as readonly string[]).includes(action))
    throw new ConfigError(
      `${action === undefined ? "missing config action" : `unknown config action '${action}'`} (expected one of: ${CONFIG_ACTIONS.join(", ")})`,
    );
  const files = words.slice(1);
  if (action === "export" && files.length > 0) throw new ConfigError(`unexpected argument '${files[0]}'`);
  if (action !== "export" && files.length === 0)
    throw new ConfigError(`config ${action} needs at least one file`);
  const format = values.format ?? "yaml";
  if (format !== "yaml" && format !== "json")
    throw new ConfigError(`--format: expected yaml or json, got '${format}'`);
  const adminUrl = values["admin-url"] ?? null;
  if (adminUrl !== null && !/^https?:\/\/[^/]+/.test(adminUrl))
    throw new ConfigError(`--admin-url: expected http://HOST:PORT, got '${adminUrl}'`);
  return {
    action: action as ConfigCommand["action"],
    files,
    selectTags: values["select-tag"] ?? [],
    format,
    output: values.output ?? null,
    dryRun: values["dry-run"] ?? false,
    adminUrl: adminUrl?.replace(/\/+$/, "") ?? null,
  };
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      "proxy-listen": { type: "string" },
      "admin-listen": { type: "string" },
      "status-listen": { type: "string" },
      database: { type: "string" },
      "no-service-management": { type: "boolean" },
      "proxy-body-limit": { type: "string" },
      "trusted-ips": { type: "string" },
      "real-ip-header": { type: "string" },
      workers: { type: "string" },
      "access-log": { type: "string" },
      "access-log-format": { type: "string" },
      "admin-access-log": { type: "string" },
      "error-log": { type: "string" },
      "log-level": { type: "string" },
      "log-buffer": { type: "string" },
      "ssl-cert": { type: "string" },
      "ssl-cert-key": { type: "string" },
      "declarative-config": { type: "string" },
      "select-tag": { type: "string", multiple: true },
      format: { type: "string" },
      output: { type: "string", short: "o" },
      "dry-run": { type: "boolean" },
      "admin-url": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
}
