// One Redis connection for a plugin instance, with Bun's built-in client, made for the request path: a
// command never waits in an offline queue (a Redis that is down fails the request's check at once, for
// fault_tolerant to decide), every command is bounded by the configured timeout, and a connection that
// failed is tried again at most once a second rather than by every request.
import type { RedisClient } from "bun";

export type RedisSettings = {
  host: string;
  port: number;
  /** Milliseconds for connecting and for each command. */
  timeout: number;
  username: string | null;
  password: string | null;
  database: number;
  ssl: boolean;
  ssl_verify: boolean;
  server_name: string | null;
};

/** A failure talking to Redis, with what was being done. */
export class RedisUnavailable extends Error {}

const RECONNECT_AFTER_MS = 1000;

/** `redis://user:password@host:port/db` with the credentials encoded (AUTH and SELECT happen on connect). */
export function redisUrl(settings: RedisSettings): string {
  const user = settings.username === null ? "" : encodeURIComponent(settings.username);
  const password = settings.password ? `:${encodeURIComponent(settings.password)}` : "";
  const credentials = user !== "" || password !== "" ? `${user}${password}@` : "";
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  return `redis://${credentials}${host}:${settings.port}/${settings.database}`;
}

export class RedisConnection {
  readonly #settings: RedisSettings;
  #client: RedisClient | null = null;
  #connecting: Promise<RedisClient> | null = null;
  #failedAt = 0;
  #lastError: Error | null = null;
  #closed = false;

  constructor(settings: RedisSettings) {
    this.#settings = settings;
  }

  /** Sends one command (or fails with RedisUnavailable) within the configured timeout. */
  async send(command: string, args: string[]): Promise<unknown> {
    const client = await this.#connected();
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisUnavailable(`${command} timed out after ${this.#settings.timeout} ms`)),
        this.#settings.timeout,
      );
    });
    try {
      return await Promise.race([client.send(command, args), timeout]);
    } catch (error) {
      if (error instanceof RedisUnavailable) this.#drop(client);
      else if ((error as { code?: string }).code !== "ERR_REDIS_SERVER_ERROR") this.#drop(client);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #connected(): Promise<RedisClient> {
    if (this.#closed) return Promise.reject(new RedisUnavailable("the Redis connection is closed"));
    if (this.#client?.connected) return Promise.resolve(this.#client);
    if (this.#connecting) return this.#connecting;
    if (this.#lastError && performance.now() - this.#failedAt < RECONNECT_AFTER_MS)
      return Promise.reject(this.#lastError);
    this.#connecting = this.#connect().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #connect(): Promise<RedisClient> {
    const s = this.#settings;
    if (this.#client) this.#client.close();
    // Bun.RedisClient, read here: a value import is evaluated at every start-up (the bundler hoists it).
    const client = new Bun.RedisClient(redisUrl(s), {
      connectionTimeout: s.timeout,
      autoReconnect: false,
      enableOfflineQueue: false,
      tls: s.ssl ? { rejectUnauthorized: s.ssl_verify, serverName: s.server_name ?? s.host } : false,
    });
    this.#client = client;
    let timer: Timer | undefined;
    try {
      await Promise.race([
        client.connect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${s.timeout} ms`)), s.timeout);
        }),
      ]);
      this.#lastError = null;
      return client;
    } catch (error) {
      client.close();
      if (this.#client === client) this.#client = null;
      this.#failedAt = performance.now();
      this.#lastError = new RedisUnavailable(
        `cannot connect to Redis at ${s.host}:${s.port}: ${(error as Error).message}`,
      );
      throw this.#lastError;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A connection that timed out or broke is not reused: the next command connects again. */
  #drop(client: RedisClient): void {
    client.close();
    if (this.#client === client) this.#client = null;
  }

  close(): void {
    this.#closed = true;
    this.#client?.close();
    this.#client = null;
  }
}
