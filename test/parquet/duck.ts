/** DuckDB (the @duckdb/node-api development dependency) as the reference reader of Periscope's Parquet files. */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

let conn: Promise<DuckDBConnection> | null = null;

/** Rows of `sql` as plain objects: integers as numbers (BIGINT too), lists as arrays. */
export async function duck(sql: string): Promise<Record<string, unknown>[]> {
  conn ??= DuckDBInstance.create(':memory:').then((db) => db.connect());
  const r = await (await conn).runAndReadAll(sql);
  return r.getRowObjectsJS().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
}

/** `read_parquet` of every Parquet file under `dir`, with the dt= and host= partitions as columns. */
export function events(dir: string): string {
  return `read_parquet('${dir.replaceAll("'", "''")}/**/*.parquet', hive_partitioning = true, hive_types = {'dt': DATE, 'host': VARCHAR})`;
}
