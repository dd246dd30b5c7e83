// What the admin API asks of proxy-cache's memory stores (Kong's /proxy-cache endpoints) and what each proxy
// worker answers. Plain data: it crosses from the main thread to every worker thread by postMessage.
import { z } from "zod";
import { lazy } from "./lazy.ts";

/** A command on the named dictionaries (each proxy-cache plugin's `memory.dictionary_name`) of one worker. */
export type CacheCommand =
  /** The entry stored under `key` in the first of the dictionaries that holds it. */
  | { op: "fetch"; dictionaries: readonly string[]; key: string }
  /** Drops `key` from every one of the dictionaries. */
  | { op: "purge"; dictionaries: readonly string[]; key: string }
  /** Empties the dictionaries. */
  | { op: "flush"; dictionaries: readonly string[] };

/**
 * A cached response as Kong's admin API renders it (the object its strategies store): the headers as the
 * client got them on the miss (names capitalised, `X-Cache-Key`; repeated ones as a list), the body as text, when it was stored and its TTL.
 */
export type CacheEntryView = {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
  body_len: number;
  /** Unix seconds when it was stored. */
  timestamp: number;
  /** Seconds it is fresh for (cache_ttl, or what Cache-Control said). */
  ttl: number;
  /** Kong's CACHE_VERSION. */
  version: number;
};

/** One worker's answer: the entry (fetch), or whether any dictionary held the key (purge; flush: false). */
export type CacheReply = { entry: CacheEntryView | null; found: boolean };

/**
 * A purge or flush one node sends the others (Kong's "proxy-cache:purge" cluster event), checked when read:
 * it comes from the database, written by another node.
 */
export const cachePurgeSchema = lazy(() =>
  z.discriminatedUnion("op", [
    z.strictObject({ op: z.literal("purge"), dictionaries: z.array(z.string()), key: z.string() }),
    z.strictObject({ op: z.literal("flush"), dictionaries: z.array(z.string()) }),
  ]),
);
