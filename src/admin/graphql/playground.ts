// The offline GraphiQL playground: a small HTML page plus GraphiQL's script, styles and editor workers,
// all served from this listener (nothing from a CDN, so it works with no internet). The assets are embedded
// in the binary already gzipped (scripts/graphiql-assets.ts) and their URLs carry a content hash, so
// browsers may cache them forever.
import { GRAPHIQL_ASSETS, type GraphiqlAsset } from "./graphiql/assets.generated.ts";

export const ASSETS_PATH = "/graphql/assets/";

const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * The page's Content-Security-Policy: scripts, styles, workers and requests only from this origin (the
 * inline scripts are the page's own two; GraphiQL's styles and fonts use inline styles and data: URLs).
 */
export const PLAYGROUND_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

export const DEFAULT_QUERY = `# Welcome to Portico. Press the run button (or Ctrl-Enter) to run this query.
# The docs (book icon, top left) list every query, mutation and subscription.
{
  services {
    totalCount
    data {
      name
      url
      routes {
        data {
          name
          paths
        }
      }
    }
  }
}

# Create a service (replace the query above with this, without the #):
# mutation {
#   addService(input: { name: "example", url: "http://127.0.0.1:3000/api" }) { id name url }
# }
#
# Watch every configuration change live:
# subscription {
#   configChanged { entity action id version }
# }
`;

const url = (asset: GraphiqlAsset) => ASSETS_PATH + asset.name;

/** JSON that is safe inside an inline <script>. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** The page yoga answers for `GET /graphql` with `Accept: text/html`. */
export function renderPlayground(options: Record<string, unknown>): string {
  const workers = {
    editorWorkerService: url(GRAPHIQL_ASSETS.editorWorker),
    json: url(GRAPHIQL_ASSETS.jsonWorker),
    graphql: url(GRAPHIQL_ASSETS.graphqlWorker),
  };
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Portico GraphQL</title>
    <link rel="icon" href="${url(GRAPHIQL_ASSETS.favicon)}" />
    <link rel="stylesheet" href="${url(GRAPHIQL_ASSETS.css)}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>The GraphQL playground needs JavaScript.</noscript>
    <div id="root"></div>
    <script>
      const workers = ${scriptJson(workers)};
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => workers[label] };
    </script>
    <script src="${url(GRAPHIQL_ASSETS.js)}"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector("#root"), ${scriptJson(options)});
    </script>
  </body>
</html>
`;
}

const byName = new Map<string, GraphiqlAsset>(Object.values(GRAPHIQL_ASSETS).map((a) => [a.name, a]));
const gzipped = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
const plain = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

/** Read from the binary on first use; kept in memory after that (about 2.5 MB, all gzipped). */
function gzipOf(asset: GraphiqlAsset): Promise<Uint8Array<ArrayBuffer>> {
  let bytes = gzipped.get(asset.name);
  if (!bytes) {
    bytes = Bun.file(asset.gzipPath).bytes();
    gzipped.set(asset.name, bytes);
  }
  return bytes;
}

/** For the rare client that does not accept gzip. */
function plainOf(asset: GraphiqlAsset): Promise<Uint8Array<ArrayBuffer>> {
  let bytes = plain.get(asset.name);
  if (!bytes) {
    // Not a static import: the bundler hoists those to start-up, and node:zlib costs milliseconds to load.
    const { gunzipSync } = process.getBuiltinModule("node:zlib");
    bytes = gzipOf(asset).then((gz) => new Uint8Array(gunzipSync(gz)) as Uint8Array<ArrayBuffer>);
    plain.set(asset.name, bytes);
  }
  return bytes;
}

function acceptsGzip(request: Request): boolean {
  const header = request.headers.get("accept-encoding") ?? "";
  return header.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding !== "gzip" && coding !== "*") return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** `GET /graphql/assets/<name>`: one of the embedded assets, or 404. */
export async function serveAsset(request: Request, pathname: string): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD")
    return Response.json({ message: "Method not allowed" }, { status: 405, headers: { allow: "GET, HEAD" } });
  const asset = byName.get(pathname.slice(ASSETS_PATH.length));
  if (!asset) return Response.json({ message: "Not found" }, { status: 404 });
  const gzip = acceptsGzip(request);
  const body = gzip ? await gzipOf(asset) : await plainOf(asset);
  const headers: Record<string, string> = {
    "content-type": asset.contentType,
    "cache-control": IMMUTABLE,
    vary: "accept-encoding",
    "x-content-type-options": "nosniff",
  };
  if (gzip) headers["content-encoding"] = "gzip";
  if (request.method === "HEAD") {
    headers["content-length"] = String(body.byteLength);
    return new Response(null, { headers });
  }
  return new Response(body, { headers });
}
