// Read your own writes: an admin write (REST or GraphQL) is answered once every proxy worker of this node
// serves the configuration version it produced — a script that creates a route and calls it at once never
// sees the 404 of the version before. The wait is bounded; the answer says what happened:
//   X-Portico-Config-Version: <the version the write produced>
//   X-Portico-Config-Applied: true | false (false: not yet served after the bounded wait)
// `Prefer: respond-async` (RFC 7240) skips the wait, e.g. for bulk loads.
import { AsyncLocalStorage } from "node:async_hooks";
import type { ChangeEvent } from "../store/contract.ts";

export const OWN_WRITE_WAIT_MS = 1000;

type Written = { version: number };

export class OwnWrites {
  readonly #writes = new AsyncLocalStorage<Written>();

  /** The store's onCommit hook: remembers, for the request that committed, the version it produced. */
  readonly onCommit = (events: readonly ChangeEvent[]): void => {
    const written = this.#writes.getStore();
    if (written && events.length > 0)
      written.version = Math.max(written.version, events[events.length - 1]!.version);
  };

  /** Wraps an admin handler so that a write answers once it is served (or the wait ran out). */
  wrap<A extends unknown[]>(
    handler: (request: Request, ...rest: A) => Response | undefined | Promise<Response | undefined>,
    whenServed: (version: number, timeoutMs: number) => Promise<boolean>,
  ): (request: Request, ...rest: A) => Promise<Response | undefined> {
    return async (request, ...rest) => {
      const written: Written = { version: 0 };
      const response = await this.#writes.run(written, () => handler(request, ...rest));
      if (response === undefined || written.version === 0) return response;
      const async = /(^|[\s,])respond-async($|[\s,;])/i.test(request.headers.get("prefer") ?? "");
      const applied = async ? null : await whenServed(written.version, OWN_WRITE_WAIT_MS);
      const headers = new Headers(response.headers);
      headers.set("x-portico-config-version", String(written.version));
      if (applied === null) headers.set("preference-applied", "respond-async");
      else headers.set("x-portico-config-applied", String(applied));
      return new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers,
      });
    };
  }
}
