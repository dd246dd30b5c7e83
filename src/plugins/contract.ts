// The plugin contract (DESIGN §6): data plus hooks. Config is validated when written through the admin API
// (catalog.ts), never per request; `access` returning a Response ends the request; `log` runs after the
// response is sent. The proxy builds one PluginContext per request that has a plugin chain.
import type { CredentialIndex } from "./credential-index.ts";

export type ConsumerIdentity = { id: string; username: string | null; custom_id: string | null };

export type CredentialIdentity = { id: string; identifier: string; consumerId: string };

export interface PluginContext {
  readonly request: Request;
  readonly method: string;
  /** Normalised request path (what the route matched). */
  readonly path: string;
  /** Raw query string with its leading `?`, or "". */
  readonly query: string;
  readonly clientIp: string;
  readonly requestId: string;
  readonly route: { id: string; name: string | null };
  readonly service: { id: string; name: string | null } | null;
  /** Headers that go upstream; plugins add and remove here (client headers were copied into it). */
  readonly upstreamHeaders: Headers;
  /** Replaces the query string sent upstream (e.g. hide_credentials removing `?apikey=`). */
  setUpstreamQuery(query: string): void;
  /** The request body as text, read once and then forwarded as read (key_in_body). */
  readBodyText(): Promise<string>;
  /** The request body's bytes as received (read once, like readBodyText; a multipart form needs the bytes). */
  readBodyBytes(): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * Replaces the body sent upstream (after reading it), e.g. hide_credentials removing a key_in_body key.
   * A new Content-Type (a re-encoded multipart form has a new boundary) replaces the client's.
   */
  setUpstreamBody(body: string | Uint8Array<ArrayBuffer>, contentType?: string): void;
  readonly credentials: CredentialIndex;
  /** Who the request is from, once an authentication plugin has identified it. */
  consumer: ConsumerIdentity | null;
  credential: CredentialIdentity | null;
  /** Set when the consumer is the configured `anonymous` one. */
  anonymous: boolean;
  /** A gateway answer in Portico's shape: `{"message": …, "request_id": …}` (or a custom body). */
  respond(status: number, body: string | Record<string, unknown>, headers?: Record<string, string>): Response;
}

export type ResponseSummary = { status: number; latencyMs: number };

export type PluginHooks<C> = {
  name: string;
  /** Higher runs first (Kong's bundled priorities). */
  priority: number;
  access?(ctx: PluginContext, config: C): Response | undefined | Promise<Response | undefined>;
  /** May change the upstream response's headers before it is relayed. */
  response?(ctx: PluginContext, config: C, response: Response): void;
  /** After the response was handed to the client; never delays it. */
  log?(ctx: PluginContext, config: C, summary: ResponseSummary): void;
};

/** Type-erased for the registry; each plugin's hooks keep their own config type. */
// biome-ignore lint/suspicious/noExplicitAny: the registry stores plugins of different config types.
export type AnyPluginHooks = PluginHooks<any>;
