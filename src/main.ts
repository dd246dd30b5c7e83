// Entry point of `bun src/main.ts` and of the compiled binary.
import { runCli } from "./runtime/cli.ts";

const code = await runCli(process.argv.slice(2), process.env);
process.exit(code);
