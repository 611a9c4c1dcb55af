'use strict'

const { it } = require('node:test')
const assert = require('node:assert/strict')
const native = require('../binding.js')
const { loadTestAddon } = require('./test-addon')

it('turns a Rust panic into a thrown Error and keeps the process alive', () => {
  const testAddon = loadTestAddon()
  assert.throws(() => testAddon.__panicForTests('boom'), (err) => {
    assert.ok(err instanceof Error)
    assert.match(err.message, /express-session-rs internal error: boom/)
    return true
  })
  // The addon still works after the panic.
  assert.match(testAddon.generateSessionId(), /^[A-Za-z0-9_-]{32}$/)
})

it('leaves the test hooks out of the addon the package loads', () => {
  const loaded = require('../lib/native')
  for (const name of ['__panicForTests', 'decodeCookieValue']) {
    assert.equal(Object.hasOwn(loaded, name), false, `lib/native.js exports ${name}`)
  }
  // They are in the test addon, so their absence above is the feature's doing.
  const testAddon = loadTestAddon()
  assert.equal(typeof testAddon.__panicForTests, 'function')
  assert.equal(typeof testAddon.decodeCookieValue, 'function')
})

it('refuses a handle of the wrong kind instead of reading it as another', () => {
  const codec = native.createCodec('connect.sid', ['secret'])
  const store = native.createMemoryStore()
  assert.throws(() => native.memoryGet(codec, 'id', Date.now()), /not the type of wrapped object/)
  assert.throws(() => native.codecReadId(store, 'connect.sid=x'), /not the type of wrapped object/)
  assert.throws(() => native.codecReadId({}, 'connect.sid=x'), Error)
  // Both still work with their own kind.
  assert.equal(native.memoryGet(store, 'id', Date.now()), null)
  assert.equal(native.codecReadId(codec, 'connect.sid=x'), null)
})
