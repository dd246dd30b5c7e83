// Redis for tests: the machine's server (PORTICO_TEST_REDIS_URL) for everything that may share it — each test
// uses its own keys and deletes them — and private `redis-server` processes (Debian's binary) for tests that
// must stop, restart or reconfigure the server (auth, TLS, an outage).
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisClient } from "bun";
import { selfSigned } from "./certs.ts";

export const REDIS_URL = process.env.PORTICO_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

let reachable: Promise<boolean> | undefined;

export function redisReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new RedisClient(REDIS_URL, { connectionTimeout: 2000, autoReconnect: false });
    try {
      await client.connect();
      return (await client.send("PING", [])) === "PONG";
    } catch {
      return false;
    } finally {
      client.close();
    }
  })();
  return reachable;
}

/** Whether a Redis suite runs here; prints the one skip line (or throws in CI) when it cannot. */
export async function requireRedis(suite: string): Promise<boolean> {
  if (await redisReachable()) return true;
  if (process.env.CI)
    throw new Error(`${suite}: Redis is unreachable at ${REDIS_URL} (PORTICO_TEST_REDIS_URL)`);
  console.log(`skipped: ${suite} (Redis unreachable at ${REDIS_URL}; set PORTICO_TEST_REDIS_URL)`);
  return false;
}

/** The host and port of the machine's Redis, as the plugin's config takes them. */
export function sharedRedisConfig(): { host: string; port: number } {
  const url = new URL(REDIS_URL);
  return { host: url.hostname, port: Number(url.port || 6379) };
}

/** A client of the machine's Redis (or of a private server) for checks and clean-up. */
export async function redisClient(url = REDIS_URL): Promise<RedisClient> {
  const client = new RedisClient(url, { connectionTimeout: 2000, autoReconnect: false });
  await client.connect();
  return client;
}

/** Deletes every key matching `pattern` (a test's own keys). */
export async function deleteKeys(client: RedisClient, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = (await client.send("SCAN", [cursor, "MATCH", pattern, "COUNT", "1000"])) as [
      string,
      string[],
    ];
    cursor = next;
    if (keys.length > 0) await client.send("DEL", keys);
  } while (cursor !== "0");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export type PrivateRedis = {
  port: number;
  dir: string;
  /** The running server's process id (to pause it with SIGSTOP). */
  readonly pid: number;
  /** Kills the server (SIGKILL: no goodbye to clients). */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same options. */
  restart(): Promise<void>;
  stop(): Promise<void>;
};

export type PrivateRedisOptions = {
  /** `requirepass` for the default user. */
  password?: string;
  /** An ACL user with every permission: [name, password]. */
  user?: [string, string];
  /** Serve TLS only, with a self-signed certificate for `redis.test` (written to `dir`). */
  tls?: boolean;
};

/** Starts Debian's redis-server on a free port; resolves once it answers PING. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), "portico-redis-"));
  const port = await freePort();
  const args = ["--save", "", "--appendonly", "no", "--dir", dir, "--bind", "127.0.0.1"];
  if (options.tls) {
    const { certPath, keyPath } = await selfSigned("redis.test", dir);
    args.push(
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--tls-cert-file",
      certPath,
      "--tls-key-file",
      keyPath,
    );
    args.push("--tls-auth-clients", "no");
  } else args.push("--port", String(port));
  if (options.password) args.push("--requirepass", options.password);
  if (options.user) args.push("--user", options.user[0], "on", `>${options.user[1]}`, "~*", "&*", "+@all");
  let proc: Bun.Subprocess | null = null;
  const start = async () => {
    proc = Bun.spawn(["redis-server", ...args], { stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 200; i++) {
      if (await answers(port)) return;
      await Bun.sleep(25);
    }
    throw new Error(`redis-server on port ${port} did not start`);
  };
  await start();
  const kill = async () => {
    if (proc === null) return;
    proc.kill("SIGKILL");
    await proc.exited;
    proc = null;
  };
  return {
    port,
    dir,
    get pid() {
      if (proc === null) throw new Error("redis-server is not running");
      return (proc as Bun.Subprocess).pid;
    },
    kill,
    restart: start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when something accepts connections on the port (a TLS server too: only the TCP handshake is tried). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}
