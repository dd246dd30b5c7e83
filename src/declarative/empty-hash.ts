// Its own module so that the gateway's start reads it without loading the declarative code.

/** Kong's configuration_hash when nothing was loaded. */
export const EMPTY_HASH = "0".repeat(32);
