/** Which command events carry SQL, and which of them run a statement: one definition for every output. */

/** Commands whose `sql` is SQL text (redacted, fingerprinted); for the others it is a name or nothing. */
export const SQL_COMMANDS: ReadonlySet<string> = new Set(['query', 'stmt_prepare', 'stmt_execute', 'stmt_close', 'stmt_reset', 'stmt_fetch', 'stmt_send_long_data', 'stmt_bulk_execute']);

/**
 * Of those, the ones that run the statement: their latency, rows and errors are the statement's.
 * The others (prepare, close, reset, send long data) are housekeeping.
 */
export const STATEMENT_RUNS: ReadonlySet<string> = new Set(['query', 'stmt_execute', 'stmt_bulk_execute', 'stmt_fetch']);
