/**
 * The tables as advice reads them, from what `--schema-from` (or a bundle) collected: columns and
 * their types (from SHOW CREATE TABLE), indexes with their columns in order (from SHOW INDEX),
 * whether there is a primary key. Names are matched case-insensitively, as fingerprints hold
 * them in lower case.
 */
import type { SchemaTable } from '../schema/collect.js';

export interface IndexColumn {
  name: string;
  /** Prefix length (SHOW INDEX Sub_part), null for the whole column. */
  sub: number | null;
}

export interface TableIndex {
  name: string;
  unique: boolean;
  type: string;
  columns: IndexColumn[];
}

export interface TableModel {
  db: string;
  name: string;
  engine: string | null;
  /** Column → its type as declared (lower case: `varchar(64)`, `int(11)`); empty when unknown. */
  columns: Map<string, string>;
  /** Columns declared NOT NULL. */
  notNull: Set<string>;
  indexes: TableIndex[];
  primary: TableIndex | null;
  /** A base table (not a view). */
  base: boolean;
}

export class Schema {
  private readonly tables = new Map<string, TableModel>();

  constructor(tables: readonly SchemaTable[]) {
    for (const t of tables) {
      if (t.status !== 'collected') continue;
      const m = tableModel(t);
      this.tables.set(`${m.db.toLowerCase()}.${m.name.toLowerCase()}`, m);
    }
  }

  get size(): number {
    return this.tables.size;
  }

  all(): TableModel[] {
    return [...this.tables.values()].sort((a, b) => (`${a.db}.${a.name}` < `${b.db}.${b.name}` ? -1 : 1));
  }

  /** A table named as a statement names it (`t` or `db.t`), looked up in `db` when unqualified. */
  find(table: string, dbs: readonly string[]): TableModel | null {
    const t = table.toLowerCase();
    if (t.includes('.')) return this.tables.get(t) ?? null;
    for (const db of dbs) {
      const m = this.tables.get(`${db.toLowerCase()}.${t}`);
      if (m !== undefined) return m;
    }
    // Only one table of that name in the schema: it is the one.
    const found = [...this.tables.values()].filter((m) => m.name.toLowerCase() === t);
    return found.length === 1 ? found[0]! : null;
  }
}

/** `db`.`table`, quoted for DDL. */
export const qualified = (m: TableModel): string => `${quote(m.db)}.${quote(m.name)}`;
export const quote = (name: string): string => `\`${name.replaceAll('`', '``')}\``;

const STRING_TYPES = /^(?:char|varchar|tinytext|text|mediumtext|longtext|national|nchar|nvarchar)\b/;
export const isStringColumn = (type: string | undefined): boolean => type !== undefined && STRING_TYPES.test(type);
export const isBlobOrText = (type: string | undefined): boolean => type !== undefined && /^(?:tinytext|text|mediumtext|longtext|tinyblob|blob|mediumblob|longblob)\b/.test(type);

function tableModel(t: SchemaTable): TableModel {
  const columns = new Map<string, string>();
  const notNull = new Set<string>();
  for (const line of (t.create ?? '').split('\n')) {
    const m = /^\s*`((?:[^`]|``)+)`\s+([a-z]+(?:\([^)]*\))?(?:\s+unsigned)?)(.*)$/i.exec(line);
    if (m === null) continue;
    const name = m[1]!.replaceAll('``', '`').toLowerCase();
    columns.set(name, m[2]!.toLowerCase());
    if (/\bNOT NULL\b/i.test(m[3]!)) notNull.add(name);
  }
  const byName = new Map<string, { unique: boolean; type: string; cols: [number, IndexColumn][] }>();
  for (const r of t.indexes) {
    const name = String(r.key_name ?? '');
    if (name === '') continue;
    let ix = byName.get(name);
    if (ix === undefined) {
      ix = { unique: Number(r.non_unique) === 0, type: String(r.index_type ?? 'BTREE').toUpperCase(), cols: [] };
      byName.set(name, ix);
    }
    const sub = r.sub_part === null || r.sub_part === undefined ? null : Number(r.sub_part);
    ix.cols.push([Number(r.seq_in_index), { name: String(r.column_name ?? '').toLowerCase(), sub }]);
  }
  const indexes: TableIndex[] = [...byName].map(([name, ix]) => ({ name, unique: ix.unique, type: ix.type, columns: ix.cols.sort((a, b) => a[0] - b[0]).map(([, c]) => c) }));
  const engine = t.statistics?.engine ?? null;
  return { db: t.database, name: t.table, engine, columns, notNull, indexes, primary: indexes.find((i) => i.name === 'PRIMARY') ?? null, base: t.type === null || t.type === 'BASE TABLE' };
}
