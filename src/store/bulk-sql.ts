// Whole-table reads and many-row writes in plain SQL, for a declarative apply of thousands of entities: the
// statement text is built once per table and row count (so the database caches it prepared), and values go
// through the columns' own drizzle encoders and decoders, so rows are exactly what the query builder reads
// and writes. drizzle's builder costs ~80 µs of CPU per row written and its row mapping more than the query;
// this path costs a few µs. Both dialects share it; only the placeholder style and the executor differ.
import { getTableColumns, getTableName, type Table } from "drizzle-orm";
import type { Row } from "./entity-def.ts";

/** What runs a statement: SQLite's `?` placeholders or PostgreSQL's `$n`. */
export type RawSql = {
  placeholders: "?" | "$n";
  run(text: string, params: unknown[]): Promise<void>;
  /** Rows as arrays of driver values, in the order of the statement's columns. */
  values(text: string, params: unknown[]): Promise<unknown[][]>;
};

type Codec = { mapToDriverValue(value: unknown): unknown; mapFromDriverValue(value: unknown): unknown };
type ColumnInfo = { name: string; codec: Codec };
type TableInfo = { name: string; columns: readonly ColumnInfo[]; byName: ReadonlyMap<string, ColumnInfo> };

/** Rows per statement (parameters stay well under SQLite's 32,766 and PostgreSQL's 65,535). */
export const BULK_CHUNK = 512;

const TABLES = new WeakMap<object, TableInfo>();
const TEXTS = new Map<string, string>();

function info(table: object): TableInfo {
  let found = TABLES.get(table);
  if (!found) {
    const columns = Object.values(getTableColumns(table as Table)).map((column) => ({
      name: column.name,
      codec: column as unknown as Codec,
    }));
    found = { name: getTableName(table as Table), columns, byName: new Map(columns.map((c) => [c.name, c])) };
    TABLES.set(table, found);
  }
  return found;
}

const quote = (name: string) => `"${name}"`;

/**
 * Chunk sizes for `count` rows: full chunks, then the remainder as powers of two, so a table is written with
 * at most a dozen distinct statements whatever its size (each prepared once and reused).
 */
export function chunkSizes(count: number): number[] {
  const sizes: number[] = [];
  let left = count;
  while (left >= BULK_CHUNK) {
    sizes.push(BULK_CHUNK);
    left -= BULK_CHUNK;
  }
  for (let size = BULK_CHUNK / 2; size >= 1; size /= 2)
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  return sizes;
}

function memo(key: string, build: () => string): string {
  let text = TEXTS.get(key);
  if (text === undefined) {
    text = build();
    TEXTS.set(key, text);
  }
  return text;
}

function placeholderList(style: RawSql["placeholders"], first: number, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(style === "?" ? "?" : `$${first + i}`);
  return out.join(",");
}

/** Every row of the table, ordered by id, decoded as drizzle's select would. */
export async function selectAll(raw: RawSql, table: object): Promise<Row[]> {
  const t = info(table);
  const text = memo(`all|${t.name}`, () => {
    const list = t.columns.map((c) => quote(c.name)).join(",");
    return `SELECT ${list} FROM ${quote(t.name)} ORDER BY "id"`;
  });
  const rows = await raw.values(text, []);
  const { columns } = t;
  const out: Row[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const values = rows[r]!;
    const row: Row = {};
    for (let c = 0; c < columns.length; c++) {
      const value = values[c];
      row[columns[c]!.name] =
        value === null || value === undefined ? null : columns[c]!.codec.mapFromDriverValue(value);
    }
    out[r] = row;
  }
  return out;
}

/**
 * Inserts the rows (every one with the first row's columns); with `replace`, a row whose id exists replaces
 * the stored one.
 */
export async function insertMany(
  raw: RawSql,
  table: object,
  rows: readonly Row[],
  replace: boolean,
): Promise<void> {
  if (rows.length === 0) return;
  const t = info(table);
  const names = Object.keys(rows[0]!);
  const columns = names.map((name) => {
    const column = t.byName.get(name);
    if (!column) throw new Error(`no column ${name} in ${t.name}`);
    return column;
  });
  const signature = names.join(",");
  let start = 0;
  for (const size of chunkSizes(rows.length)) {
    const text = memo(`insert|${replace}|${raw.placeholders}|${t.name}|${signature}|${size}`, () => {
      const groups: string[] = [];
      for (let i = 0; i < size; i++)
        groups.push(`(${placeholderList(raw.placeholders, i * names.length + 1, names.length)})`);
      const insert = `INSERT INTO ${quote(t.name)} (${names.map(quote).join(",")}) VALUES ${groups.join(",")}`;
      if (!replace) return insert;
      // Both databases name the row that lost the conflict `excluded`.
      const set = names
        .filter((name) => name !== "id")
        .map((name) => `${quote(name)} = excluded.${quote(name)}`)
        .join(",");
      return `${insert} ON CONFLICT ("id") DO UPDATE SET ${set}`;
    });
    const params: unknown[] = new Array(size * names.length);
    let p = 0;
    for (let r = start; r < start + size; r++) {
      const row = rows[r]!;
      for (let c = 0; c < names.length; c++) {
        const value = row[names[c]!];
        params[p++] =
          value === null || value === undefined ? null : columns[c]!.codec.mapToDriverValue(value);
      }
    }
    await raw.run(text, params);
    start += size;
  }
}

/** Deletes the rows with these ids. */
export async function deleteMany(raw: RawSql, table: object, ids: readonly string[]): Promise<void> {
  const t = info(table);
  let start = 0;
  for (const size of chunkSizes(ids.length)) {
    const text = memo(
      `delete|${raw.placeholders}|${t.name}|${size}`,
      () => `DELETE FROM ${quote(t.name)} WHERE "id" IN (${placeholderList(raw.placeholders, 1, size)})`,
    );
    await raw.run(text, ids.slice(start, start + size));
    start += size;
  }
}
