// The command line: start (default) | migrate | config … | --help | --version. Expected failures (bad flag, port in
// use, unusable database) print one line on stderr and exit with code 2, never a stack trace.
import { DatabaseOpenError, openStore } from "../store/open.ts";
import { ConfigError, loadConfig, USAGE } from "./config.ts";
import { normalJitPolicy } from "./jit-policy.ts";
import { StartupError, startGateway } from "./server.ts";
import { versionText } from "./version.ts";

const EXIT_USAGE = 2;

export async function runCli(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Promise<number> {
  try {
    const config = loadConfig(argv, env);
    switch (config.command) {
      case "help":
        process.stdout.write(USAGE);
        return 0;
      case "version":
        process.stdout.write(versionText());
        return 0;
      case "migrate": {
        const store = await openStore(config.database);
        const version = await store.configVersion();
        await store.close();
        console.log(
          `portico: database ${store.info.location} is up to date (configuration version ${version})`,
        );
        return 0;
      }
      case "config": {
        // The declarative code and the admin client load for this command only.
        const { runConfigCommand } = await import("./config-command.ts");
        return await runConfigCommand(config);
      }
      case "start":
        return await serveUntilSignal(config);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`portico: ${error.message} (see portico --help)`);
      return EXIT_USAGE;
    }
    if (error instanceof StartupError || error instanceof DatabaseOpenError) {
      console.error(`portico: ${error.message}`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

async function serveUntilSignal(config: Parameters<typeof startGateway>[0]): Promise<number> {
  const gateway = await startGateway(config);
  normalJitPolicy();
  // logrotate's postrotate sends SIGUSR1, as to nginx: every log file is opened again.
  const reopen = () => gateway.reopenLogs();
  process.on("SIGUSR1", reopen);
  // DB-less: SIGHUP reads the declarative file again (a broken file keeps the running configuration).
  const reload = () => void gateway.reloadDeclarative();
  if (config.declarativeConfig !== null) process.on("SIGHUP", reload);
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  console.log(`portico: ${signal} received, draining in-flight requests (send it again to exit at once)`);
  const forceExit = (again: string) => {
    console.error(`portico: ${again} received again, exiting without waiting`);
    process.exit(1);
  };
  process.once("SIGINT", forceExit);
  process.once("SIGTERM", forceExit);
  process.off("SIGHUP", reload);
  await gateway.stop();
  process.off("SIGUSR1", reopen);
  console.log("portico: stopped");
  return 0;
}
