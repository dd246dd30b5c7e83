import pkg from "../../package.json" with { type: "json" };

// Stamped by scripts/compile.ts (`bun build --define`); undeclared when running from source.
declare const PORTICO_COMMIT: string | undefined;
declare const PORTICO_BUILD_DATE: string | undefined;

/** The gateway's version, from package.json (embedded into the binary at build time). */
export const VERSION: string = pkg.version;

const FROM_SOURCE = "none (running from source)";

/** Where this executable came from: the commit and date of its build, or the source fallbacks. */
export const BUILD = Object.freeze({
  commit: typeof PORTICO_COMMIT === "string" ? PORTICO_COMMIT : FROM_SOURCE,
  date: typeof PORTICO_BUILD_DATE === "string" ? PORTICO_BUILD_DATE : FROM_SOURCE,
});

/** `portico version`: the first line stays `portico <version>` for scripts that read only that. */
export function versionText(): string {
  return [
    `portico ${VERSION}`,
    `commit  ${BUILD.commit}`,
    `built   ${BUILD.date}`,
    `bun     ${Bun.version} (${process.platform}-${process.arch})`,
    "",
  ].join("\n");
}
