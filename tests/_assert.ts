/**
 * The assertions tests use, from `node:assert/strict` while `@std/assert`
 * (on JSR) is out of reach; switching is a change to this file only.
 *
 * @module
 */
export {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  notDeepStrictEqual as assertNotEquals,
  ok as assert,
  rejects as assertRejects,
  strictEqual as assertStrictEquals,
  throws as assertThrows,
} from "node:assert/strict";
