// The immutable configuration the data plane serves from. runtime/ builds one off the request path on every
// config change and swaps it in; requests already running keep the snapshot they started with.
import type { Route } from "../schemas/routes.ts";
import type { Service } from "../schemas/services.ts";

export type SnapshotInput = {
  version: number;
  services: readonly Service[];
  routes: readonly Route[];
};

export type Snapshot = Readonly<{
  version: number;
  builtAt: number;
  services: ReadonlyMap<string, Service>;
  routes: readonly Route[];
}>;

export function buildSnapshot(input: SnapshotInput): Snapshot {
  return Object.freeze({
    version: input.version,
    builtAt: Date.now(),
    services: new Map(input.services.map((s) => [s.id, s])),
    routes: Object.freeze([...input.routes]),
  });
}
