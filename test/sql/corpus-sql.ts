/** The statements of the corpus (test/sql/corpus/*.json), in file order, for tests that need only the SQL. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This file runs as build/test/sql/corpus-sql.js; the corpus stays in the source tree. */
const DIR = fileURLToPath(new URL('../../../test/sql/corpus/', import.meta.url));

export function corpusSql(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => (JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { sql: string }[]).map((e) => e.sql));
}
