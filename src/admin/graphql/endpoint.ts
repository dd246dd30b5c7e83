// What the admin listener knows about GraphQL before GraphQL is loaded: the paths it owns and the largest
// message it takes. Apart from index.ts so that admin/app.ts can route and configure the WebSocket without
// loading graphql, yoga and the schema at start-up (they load on the first /graphql request).

export const GRAPHQL_PATH = "/graphql";

export function isGraphqlPath(pathname: string): boolean {
  return pathname === GRAPHQL_PATH || pathname.startsWith(`${GRAPHQL_PATH}/`);
}

/** The admin API's body limit (REST's too): a GraphQL document with its variables is far smaller. */
export const GRAPHQL_BODY_LIMIT = 1024 * 1024;
