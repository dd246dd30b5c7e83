// What every authentication plugin does the same way (Kong's set_consumer / anonymous handling): the
// identified consumer travels upstream as X-Consumer-* headers, and a failure either ends the request or
// falls back to the configured anonymous consumer.
import type { ConsumerIdentity, CredentialIdentity, PluginContext } from "./contract.ts";

/** The upstream request headers `setConsumer` sets or deletes. */
export const CONSUMER_HEADERS = [
  "x-consumer-id",
  "x-consumer-custom-id",
  "x-consumer-username",
  "x-credential-identifier",
  "x-anonymous-consumer",
] as const;

export function setConsumer(
  ctx: PluginContext,
  consumer: ConsumerIdentity,
  credential: CredentialIdentity | null,
  anonymous: boolean,
): void {
  ctx.consumer = consumer;
  ctx.credential = credential;
  ctx.anonymous = anonymous;
  // A header the consumer does not have is cleared (a client may have sent it to pass as someone); callers
  // set none of these before, so one neither received nor set by an earlier hook needs no delete.
  setOrClear(ctx, "x-consumer-id", consumer.id);
  setOrClear(ctx, "x-consumer-custom-id", consumer.custom_id);
  setOrClear(ctx, "x-consumer-username", consumer.username);
  setOrClear(ctx, "x-credential-identifier", credential?.identifier ?? null);
  setOrClear(ctx, "x-anonymous-consumer", anonymous ? "true" : null);
}

function setOrClear(ctx: PluginContext, name: string, value: string | null): void {
  if (value !== null) ctx.upstreamHeaders.set(name, value);
  else if (ctx.upstreamHeaderMayBePresent(name)) ctx.upstreamHeaders.delete(name);
}

/**
 * With `anonymous` set, several auth plugins on one route form a logical OR: once one has identified a real
 * credential, the others stand aside.
 */
export function satisfiedByAnotherPlugin(ctx: PluginContext, anonymous: string | null): boolean {
  return anonymous !== null && ctx.credential !== null;
}

export type AuthFailure = {
  status: number;
  message: string | Record<string, unknown>;
  headers?: Record<string, string>;
};

/** Ends the request with the failure, or continues as the anonymous consumer when one is configured. */
export function failOrAnonymous(
  ctx: PluginContext,
  anonymous: string | null,
  failure: AuthFailure,
): Response | undefined {
  if (anonymous === null) return ctx.respond(failure.status, failure.message, failure.headers);
  const consumer = ctx.credentials.consumerByIdOrUsername(anonymous);
  // Kong answers 500 here too: the configuration names a consumer that does not exist.
  if (!consumer) return ctx.respond(500, `anonymous consumer ${anonymous} is configured but doesn't exist`);
  setConsumer(ctx, consumer, null, true);
  return undefined;
}
