// Seeds a Portico database with the benchmark's service, its `/bench` route and N more routes (two paths
// each: a short prefix and a longer one), in one transaction. Used for the 10,000-route run: through the
// admin API every write triggers a full snapshot rebuild, so 10,000 POSTs one after another cost minutes
// (see bench/README.md).
//
//   bun bench/seed-routes.ts <database> <upstream-url> <count>
import { openStore } from "../src/store/open.ts";

const [database, upstream, count] = process.argv.slice(2);
if (!database || !upstream || !count)
  throw new Error("usage: seed-routes.ts <database> <upstream-url> <count>");
const store = await openStore(database);
const service = await store.entity("services").insert({ name: "nginx-upstream", url: upstream });
await store.entity("routes").insert({ name: "bench", paths: ["/bench"], service: { id: service.id } });
await store.batch(
  Array.from({ length: Number(count) }, (_, i) => ({
    entity: "routes" as const,
    action: "insert" as const,
    input: { paths: [`/r${i}`, `/api/v${i}/items`], service: { id: service.id } },
  })),
);
await store.close();
