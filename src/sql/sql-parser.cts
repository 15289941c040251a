/**
 * node-sql-parser's MySQL build, loaded on first use. A CommonJS module so that the load is a
 * plain `require` a bundler can follow (dist/periscope.mjs carries the parser inside) while it
 * still runs only when called.
 */
export function loadMysqlParser(): unknown {
  return require('node-sql-parser/build/mysql.js');
}
