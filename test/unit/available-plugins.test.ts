// GET / lists the bundled plugins from a constant (plugins/available.ts) so that the first admin answer does
// not load them: it must name every plugin of the catalog, in name order, with its version and priority.
import { expect, test } from "bun:test";
import { AVAILABLE_PLUGINS } from "../../src/plugins/available.ts";
import { PLUGIN_CATALOG } from "../../src/plugins/catalog.ts";

test("AVAILABLE_PLUGINS is the catalog's names, versions and priorities, sorted by name", () => {
  const fromCatalog = [...PLUGIN_CATALOG.keys()]
    .sort()
    .map((name): [string, { version: string; priority: number }] => {
      const { version, priority } = PLUGIN_CATALOG.get(name)!;
      return [name, { version, priority }];
    });
  expect(Object.entries(AVAILABLE_PLUGINS)).toEqual(fromCatalog);
});
