import type { AdminContext } from "../context.ts";

export function createRestHandler(_context: AdminContext): (request: Request) => Promise<Response> {
  return async () => Response.json({ message: "Not found" }, { status: 404 });
}
