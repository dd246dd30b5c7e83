import pkg from "../../package.json" with { type: "json" };

/** The gateway's version, from package.json (embedded into the binary at build time). */
export const VERSION: string = pkg.version;
