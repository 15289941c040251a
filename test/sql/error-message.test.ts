import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { redactErrorMessage } from '../../src/sql/index.js';

describe('redactErrorMessage', () => {
  const cases: [string, string][] = [
    ["Duplicate entry 'alice@example.com' for key 'users.email'", 'Duplicate entry ? for key ?'],
    ["Duplicate entry 'x' for key 'y' for key 'users.email'", 'Duplicate entry ? for key ?'],
    ["Duplicate entry 'O'Brien-42' for key 'PRIMARY'", 'Duplicate entry ? for key ?'],
    [
      "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'secret' WHERE id = 5' at line 1",
      'You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ? at line 1',
    ],
    [
      "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'FORM users WHERE name = 'bob'' at line 1",
      'You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near ? at line 1',
    ],
    ["Incorrect integer value: 'abc' for column 'age' at row 1", 'Incorrect integer value: ? for column ? at row 1'],
    ["Incorrect string value: '\\xF0\\x9F\\x98\\x80' for column `shop`.`t`.`c` at row 1", 'Incorrect string value: ? for column `shop`.`t`.`c` at row 1'],
    ["Truncated incorrect DOUBLE value: 'secret'", 'Truncated incorrect DOUBLE value: ?'],
    ["Incorrect datetime value: '2024-13-01' for function str_to_date", 'Incorrect datetime value: ? for function str_to_date'],
    ["Data too long for column 'name' at row 1", 'Data too long for column ? at row 1'],
    ["Unknown column 'secret_col' in 'field list'", 'Unknown column ? in ?'],
    ["Table 'shop.orderz' doesn't exist", "Table ? doesn't exist"],
    ["Access denied for user 'app'@'10.0.0.7' (using password: YES)", 'Access denied for user ?@? (using password: YES)'],
    ['Invalid JSON text: "Missing a comma or \'}\' after an object member." at position 12 in value for column \'t.doc\'.', 'Invalid JSON text: ? at position 12 in value for column ?.'],
    ["Column 'email' cannot be null", 'Column ? cannot be null'],
    ["Check constraint 'chk_age' is violated.", 'Check constraint ? is violated.'],
    [
      'Cannot add or update a child row: a foreign key constraint fails (`shop`.`orders`, CONSTRAINT `fk_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`))',
      'Cannot add or update a child row: a foreign key constraint fails (`shop`.`orders`, CONSTRAINT `fk_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`))',
    ],
    ["Duplicate entry 'cut short by the server", 'Duplicate entry ?'],
    ["Unknown column 'unterminated", 'Unknown column ?'],
    ['Lock wait timeout exceeded; try restarting transaction', 'Lock wait timeout exceeded; try restarting transaction'],
    ['', ''],
  ];
  for (const [msg, want] of cases) test(msg || '(empty)', () => assert.equal(redactErrorMessage(msg), want));

  test('property: a quoted value never survives, whatever it contains', () => {
    const value = fc.string({ minLength: 1, maxLength: 40 }).map((s) => `SECRET${s}MARK`);
    const template = fc.constantFrom(
      (v: string) => `Duplicate entry '${v}' for key 'users.email'`,
      (v: string) => `You have an error in your SQL syntax; check the manual for the right syntax to use near '${v}' at line 3`,
      (v: string) => `Incorrect integer value: '${v}' for column 'age' at row 7`,
      (v: string) => `Truncated incorrect DOUBLE value: '${v}'`,
      // A message without a template: safe for values without quotes.
      (v: string) => `Invalid utf8mb4 character string: '${v.replace(/['"]/g, '')}'`,
    );
    fc.assert(
      fc.property(template, value, (tpl, v) => {
        const out = redactErrorMessage(tpl(v));
        assert.ok(!out.includes('SECRET') && !out.includes('MARK'), out);
      }),
      { numRuns: 500 },
    );
  });

  test('a SIGNAL message is the client text, masked whole', () => {
    const msg = 'card 4111 1111 declined for bob';
    assert.equal(redactErrorMessage(msg, { code: 1644, sqlState: '45000' }), '?');
    assert.equal(redactErrorMessage(msg, { code: 1642 }), '?', 'the warnings of SIGNAL too');
    assert.equal(redactErrorMessage(msg, { code: 1643 }), '?');
    assert.equal(redactErrorMessage(msg, { code: 1001, sqlState: '45001' }), '?', 'any user-defined SQLSTATE class 45');
    assert.equal(redactErrorMessage(msg, { code: 1001, sqlState: 'HY000', sql: "SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1001, MESSAGE_TEXT = 'x'" }), '?', 'the statement is a SIGNAL');
    assert.equal(redactErrorMessage(msg, { code: 1001, sql: "/* app */ resignal set message_text = 'x'" }), '?');
    assert.equal(redactErrorMessage('', { code: 1644 }), '');
    // Other errors keep their text, values masked.
    assert.equal(redactErrorMessage("Duplicate entry 'bob' for key 'email'", { code: 1062, sqlState: '23000', sql: "INSERT INTO t VALUES ('bob') -- SIGNAL" }), 'Duplicate entry ? for key ?');
    assert.equal(redactErrorMessage(msg, { code: 1146, sqlState: '42S02' }), msg);
  });

  test('never throws', () => {
    // (and what it leaves has nothing left to redact)
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => redactErrorMessage(redactErrorMessage(s)) === redactErrorMessage(s)), { numRuns: 500 });
  });
});
