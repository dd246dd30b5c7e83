// The bundled plugins as `GET /` lists them (Kong's available_on_server: each plugin's version and priority,
// by name). A constant, not read off the descriptors, so that the admin API's first answer does not evaluate
// every plugin's module; test/unit/available-plugins.test.ts keeps it equal to the catalog.

export const AVAILABLE_PLUGINS: Readonly<Record<string, { version: string; priority: number }>> = {
  acl: { version: "1.0.0", priority: 950 },
  "basic-auth": { version: "1.0.0", priority: 1100 },
  "correlation-id": { version: "1.0.0", priority: 100001 },
  cors: { version: "1.0.0", priority: 2000 },
  "file-log": { version: "1.0.0", priority: 9 },
  "http-log": { version: "1.0.0", priority: 12 },
  "ip-restriction": { version: "1.0.0", priority: 990 },
  jwt: { version: "1.0.0", priority: 1450 },
  "key-auth": { version: "1.0.0", priority: 1250 },
  prometheus: { version: "1.0.0", priority: 13 },
  "proxy-cache": { version: "1.0.0", priority: 100 },
  "rate-limiting": { version: "1.0.0", priority: 910 },
  "request-size-limiting": { version: "1.0.0", priority: 951 },
  "request-termination": { version: "1.0.0", priority: 2 },
  "request-transformer": { version: "1.0.0", priority: 801 },
  "response-transformer": { version: "1.0.0", priority: 800 },
};
