/**
 * yargs through its CommonJS build (the ESM build wraps help text in the middle of words), in a
 * CommonJS module so that a bundler follows the `require`.
 */
import yargs = require('yargs');
export = yargs;
