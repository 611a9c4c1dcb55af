'use strict'

const { it } = require('node:test')
const assert = require('node:assert/strict')
const native = require('../binding.js')

it('turns a Rust panic into a thrown Error and keeps the process alive', () => {
  assert.throws(() => native.__panicForTests('boom'), (err) => {
    assert.ok(err instanceof Error)
    assert.match(err.message, /express-session-rs internal error: boom/)
    return true
  })
  // The addon still works after the panic.
  assert.match(native.generateSessionId(), /^[A-Za-z0-9_-]{32}$/)
})
