/**
 * SQL redaction, fingerprints and digests (docs/fingerprints.md): the entry of src/sql.
 *
 *   const sql = new SqlNormalizer();            one per consumer: it owns its buffers and caches
 *   sql.normalizeBytes(b, start, end, opts)     redacted text, fingerprint and digest, one pass,
 *                                               on the bytes of a packet in the connection's
 *                                               character set and SQL mode (`SqlOptions`)
 *   sql.normalize(text, opts)                   the same on a JS string
 *   sql.fingerprintAndDigest[Bytes](…)          both without the redacted text (grouping)
 *   sql.redact[Bytes](…), sql.fingerprint[Bytes](…)
 *   sessionMode(noBackslashEscapes)             the `SqlOptions` of an event's SQL mode
 *   digest(fingerprint)                         16 hex digits naming a fingerprint
 *   redactErrorMessage(msg, context)            quoted spans of a server error message → `?`
 *
 * Reading order, top-down:
 *
 *   ./normalizer.ts          `SqlNormalizer`: the way of a statement through the pieces below
 *   ./lexer.ts               the lexer: bytes → tokens and redaction spans; hands each token to a
 *                            `TokenSink` it declares; never fails
 *   ./scan.ts                the lexer's hot loop (the same tokens, faster), feeding ...
 *   ./fingerprint-stream.ts  ... the fingerprint written token by token (the `TokenSink`): the
 *                            one writer of the rules, every statement (the tests compare it with
 *                            their oracle, test/sql/oracle/fingerprint-writer.ts)
 *   ./fingerprint-rules.ts   the fingerprint rules' tables
 *   ./redact.ts              the redacted text from the lexer's spans
 *   ./digest.ts              MurmurHash3 of the fingerprint
 *   ./templates.ts           the template cache: statements seen before, matched on their bytes
 *   ./keywords.ts            the keyword table the lexer and writers share
 *   ./error-message.ts       server error messages
 *
 * Beside it, for other consumers of the lexer: ./facts.ts (kind and tables of a fingerprint,
 * node-sql-parser loaded on first use), ./shape.ts (a statement's shape for the advisor),
 * ./bind.ts (placeholders filled for the slow log).
 */
export { SqlNormalizer, sessionMode, type Known, type NormalizedSql, type SqlOptions } from './normalizer.js';
export { digest } from './digest.js';
export { redactErrorMessage } from './error-message.js';
