// file-log (Kong's bundled plugin, priority 9): each request's log record (Kong's log serializer, plus the
// custom fields) appended to `path` as one JSON document and a newline. Kong writes each entry with a blocking
// write(2) from the request's worker; here entries go through a LineWriter (plugins/line-writer.ts): batched,
// written on the I/O thread pool, bounded — a slow disk costs log lines, never request latency. `reopen`
// opens the file again before each batch (Kong: before each entry), so a moved or deleted file is recreated.
import { z } from "zod";
import { typeError } from "../../schemas/common.ts";
import { lazy } from "../../schemas/lazy.ts";
import { configBoolean } from "../config-fields.ts";
import type { PluginDescriptor } from "../contract.ts";
import { LineWriter } from "../line-writer.ts";
import {
  applyCustomFields,
  compileCustomFields,
  customFieldsByLuaSchema,
  customFieldsSchema,
} from "../log-fields.ts";

export const fileLogConfig = lazy(() =>
  z.strictObject({
    path: z
      .string({ error: typeError("expected a string") })
      .regex(/^[^*&%`]+$/, { error: "not a valid filename" })
      .refine((path) => path.trim() === path, { error: "not a valid filename" }),
    reopen: configBoolean(false),
    custom_fields_by_lua: customFieldsByLuaSchema(),
    /** Beyond Kong: templates over the log record, in place of Lua code. */
    custom_fields: customFieldsSchema(),
  }),
);

export type FileLogConfig = z.output<ReturnType<typeof fileLogConfig>>;

/** A file that cannot be opened is tried again at most this often (entries meanwhile are dropped, counted). */
const RETRY_OPEN_MS = 10_000;

export const fileLog: PluginDescriptor<FileLogConfig> = {
  name: "file-log",
  priority: 9,
  version: "1.0.0",
  get config() {
    return fileLogConfig();
  },
  scoping: { consumer: true, route: true, service: true },
  compile(config, env, scope) {
    const fields = compileCustomFields(config.custom_fields);
    const name = `file-log ${scope.id}`;
    const report = (message: string) => env.errorLog("warn", `${name}: ${message}`);
    let writer: LineWriter | null = null;
    let failedAt = Number.NEGATIVE_INFINITY;
    let lost = 0;
    // Opened on first use and again after a failure: a missing directory must not fail the proxy (Kong logs
    // the error per request and goes on).
    const open = (): LineWriter | null => {
      if (writer !== null) return writer;
      const now = Date.now();
      if (now - failedAt < RETRY_OPEN_MS) return null;
      try {
        writer = new LineWriter(config.path, { reopenEachWrite: config.reopen, report });
      } catch (error) {
        failedAt = now;
        env.errorLog(
          "error",
          `${name}: failed to open the file ${config.path} (${(error as Error).message}); ${lost} entries lost so far`,
        );
      }
      return writer;
    };
    open();
    return {
      log(_ctx, entry) {
        const target = open();
        if (target === null) {
          lost++;
          return;
        }
        const record = entry.serialize();
        applyCustomFields(record, fields);
        target.write(JSON.stringify(record));
      },
      cleanup: () => writer?.close(),
    };
  },
};
