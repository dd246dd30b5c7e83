// The machine's PostgreSQL for tests: each test database is created for the run and dropped afterwards.
// Without a reachable server a suite is skipped with one line — except in CI, where that is a failure.
import { SQL } from "bun";

export const PG_URL = process.env.PORTICO_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

let reachable: Promise<boolean> | undefined;

/** True when the test server answers (checked once per process). */
export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new SQL(PG_URL, { max: 1, connectionTimeout: 2 });
    try {
      await client`SELECT 1`;
      return true;
    } catch {
      return false;
    } finally {
      await client.close().catch(() => {});
    }
  })();
  return reachable;
}

/** Whether a PostgreSQL suite runs here; prints the one skip line (or throws in CI) when it cannot. */
export async function requirePostgres(suite: string): Promise<boolean> {
  if (await postgresReachable()) return true;
  if (process.env.CI)
    throw new Error(`${suite}: PostgreSQL is unreachable at ${PG_URL} (PORTICO_TEST_PG_URL)`);
  console.log(`skipped: ${suite} (PostgreSQL unreachable at ${PG_URL}; set PORTICO_TEST_PG_URL)`);
  return false;
}

export type TestDatabase = { url: string; drop(): Promise<void> };

/** A new, empty database on the test server; `drop` removes it (closing other sessions first). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `portico_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new SQL(PG_URL, { max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new SQL(PG_URL, { max: 1 });
      try {
        await client.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.close();
      }
    },
  };
}

/** Which store the black-box suites run on: SQLite by default, PostgreSQL with PORTICO_TEST_STORE=postgres. */
export const TEST_STORE: "sqlite" | "postgres" =
  process.env.PORTICO_TEST_STORE === "postgres" ? "postgres" : "sqlite";
