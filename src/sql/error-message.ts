/**
 * Server error messages quote what the client sent: `Duplicate entry 'alice@example.com' for key
 * 'users.email'`, `… right syntax to use near 'secret' WHERE id = 5' at line 1`, `Incorrect
 * integer value: 'abc' for column 'age' at row 1`. Every quoted span becomes `?`.
 *
 * MySQL does not escape quotes inside the values it quotes, so a quote cannot be trusted to end a
 * value. For the messages that carry values (the templates below) the value runs from the opening
 * quote to the LAST occurrence of the text that follows it in the template, so a value containing
 * `' for key '` still ends up whole inside the mask. Elsewhere, a quote closes a span only when
 * what follows it is not a letter or digit; an unclosed quote masks to the end of the message.
 * Backquoted spans are identifiers and stay.
 *
 * Some messages are the client's own text, whole: SIGNAL and RESIGNAL set MESSAGE_TEXT to anything
 * (`SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'card 4111… declined'`). Those are masked whole:
 * errors 1644 (ER_SIGNAL_EXCEPTION) and the warnings 1642 and 1643, any SQLSTATE of class 45
 * (unhandled user-defined exception), and any error of a statement that is itself a SIGNAL or
 * RESIGNAL. (A stored procedure that SIGNALs with its own MYSQL_ERRNO and another SQLSTATE class
 * cannot be told from a server error: its quoted spans are masked, not the rest.)
 */

interface Template {
  /** Text up to and including the value's opening quote. */
  open: string;
  /** Text from the value's closing quote on. */
  close: string;
}

const TEMPLATES: readonly Template[] = [
  { open: "Duplicate entry '", close: "' for key " },
  { open: " near '", close: "' at line " },
  { open: " value: '", close: "' for column " },
  { open: " value: '", close: "' for function " },
  { open: " value: '", close: "' at row " },
  { open: ': "', close: '" at position ' },
  { open: ' near "', close: '" at line ' },
];

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80;
}

function generic(msg: string): string {
  let out = '';
  let run = 0;
  let i = 0;
  const n = msg.length;
  while (i < n) {
    const c = msg.charCodeAt(i);
    // A quote opens a span only after a non-word character: the apostrophe of "doesn't" does not.
    if ((c !== 0x27 && c !== 0x22) || (i > 0 && isWordChar(msg.charCodeAt(i - 1)))) {
      i++;
      continue;
    }
    let j = i + 1;
    for (;;) {
      j = msg.indexOf(msg[i]!, j);
      if (j < 0 || j + 1 >= n || !isWordChar(msg.charCodeAt(j + 1))) break;
      j++;
    }
    out += msg.slice(run, i) + '?';
    if (j < 0) return out; // unclosed: mask to the end
    i = run = j + 1;
  }
  return out + msg.slice(run);
}

/** What is known of the error besides its message (all optional). */
export interface ErrorContext {
  code?: number | null;
  sqlState?: string | null;
  /** The statement that failed. */
  sql?: string | null;
}

const SIGNAL_CODES = new Set([1642, 1643, 1644]);
const SIGNAL_STATEMENT = /^\s*(?:\/\*(?:[^*]|\*(?!\/))*\*\/\s*)*(?:RE)?SIGNAL\b/i;

/** Is the whole message the client's text (see the file's comment)? */
function userText(c: ErrorContext | undefined): boolean {
  if (c === undefined) return false;
  return (c.code != null && SIGNAL_CODES.has(c.code)) || (c.sqlState != null && c.sqlState.startsWith('45')) || (c.sql != null && SIGNAL_STATEMENT.test(c.sql));
}

export function redactErrorMessage(msg: string, context?: ErrorContext): string {
  if (userText(context)) return msg === '' ? '' : '?';
  return redactServerMessage(msg);
}

function redactServerMessage(msg: string): string {
  let cut = -1;
  for (const t of TEMPLATES) {
    const o = msg.indexOf(t.open);
    if (o < 0) continue;
    const valueStart = o + t.open.length - 1; // the opening quote
    const close = msg.lastIndexOf(t.close);
    if (close > valueStart) {
      return redactServerMessage(msg.slice(0, valueStart)) + '?' + redactServerMessage(msg.slice(close + 1));
    }
    if (cut < 0 || valueStart < cut) cut = valueStart;
  }
  // A value with nothing after it, or a message cut short (MySQL truncates long ones): the value
  // runs to the end.
  if (cut >= 0) return redactServerMessage(msg.slice(0, cut)) + '?';
  return generic(msg);
}
