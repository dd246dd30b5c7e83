// Starting a Bun.serve listener, with the failures a user can cause (port in use, no permission, no such
// address) turned into one clear line.
import type { Server } from "bun";
import type { Listen } from "./config.ts";

/** A listener that cannot start (port in use, bad address): one line on stderr, exit code 2. */
export class StartupError extends Error {}

export function listenerUrl(host: string, port: number, ssl = false): string {
  return `${ssl ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export function listen(
  name: string,
  address: Listen,
  options: Omit<Bun.Serve.Options<unknown>, "hostname" | "port">,
): Server<unknown> {
  try {
    return Bun.serve({
      ...options,
      hostname: address.host,
      port: address.port,
    } as Bun.Serve.Options<unknown>);
  } catch (error) {
    const err = error as Error & { code?: string };
    const where = `${address.host}:${address.port}`;
    if (err.code === "EADDRINUSE")
      throw new StartupError(`${name} listener: address ${where} is already in use`);
    if (err.code === "EACCES") throw new StartupError(`${name} listener: permission denied for ${where}`);
    if (err.code === "EADDRNOTAVAIL")
      throw new StartupError(`${name} listener: address ${where} is not available`);
    throw new StartupError(`${name} listener: cannot listen on ${where}: ${err.message}`);
  }
}
