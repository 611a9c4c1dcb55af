'use strict'

// The change log a request's session keeps (the paths its Proxy saw written or
// deleted) and the merge that re-applies it onto a session saved meanwhile.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { applyChanges } = require('../lib/tracking/merge')
const { SessionTracker } = require('../lib/tracking/tracker')

// A watched session the way the middleware makes one.
function watched (data) {
  const tracker = new SessionTracker()
  const session = tracker.watch({ cookie: { path: '/' }, ...structuredClone(data) })
  return { tracker, session }
}

describe('the change log', () => {
  it('logs writes and deletes at their paths, once each', () => {
    const { tracker, session } = watched({ cart: { a: 1, deep: { b: 2 } }, n: 0 })
    session.n = 1
    session.n = 2
    session.cart.deep.b = 3
    delete session.cart.a
    session.fresh = 'x'
    assert.deepEqual(tracker.changedPaths(), [['n'], ['cart', 'deep', 'b'], ['cart', 'a'], ['fresh']])
  })

  it('logs an array as a whole, whatever changes inside it', () => {
    const { tracker, session } = watched({ list: [{ a: 1 }, 2] })
    session.list.push(3)
    session.list[0].a = 5
    assert.deepEqual(tracker.changedPaths(), [['list']])
  })

  it('logs a value it cannot watch as written whole where it was read', () => {
    const { tracker, session } = watched({ box: { when: null } })
    session.box.when = new Date(0)
    const when = session.box.when
    assert.ok(when instanceof Date)
    assert.deepEqual(tracker.changedPaths(), [['box', 'when']])
  })

  it('stays as long as the distinct paths when the app writes in a loop', () => {
    const { tracker, session } = watched({ n: 0, o: {} })
    for (let i = 0; i < 5000; i++) {
      session.n = i
      session.o['k' + (i % 3)] = i
    }
    assert.deepEqual(tracker.changedPaths(), [['n'], ['o', 'k0'], ['o', 'k1'], ['o', 'k2']])
    assert.ok(tracker.changedKeys.length <= 1025, `log of ${tracker.changedKeys.length}`)
  })

  it('starts again for a new session and after a save', () => {
    const { tracker, session } = watched({ n: 0 })
    session.n = 1
    tracker.clearChanges()
    assert.deepEqual(tracker.changedPaths(), [])
    session.n = 2
    assert.deepEqual(tracker.changedPaths(), [['n']])
  })
})

describe('applyChanges', () => {
  it('takes this request\'s values at its paths and leaves the rest as stored', () => {
    const stored = { cookie: { old: true }, cart: { a: 1, b: 2 }, other: 'theirs' }
    const mine = { cookie: { mine: true }, cart: { a: 1, c: 3 }, other: 'stale' }
    assert.deepEqual(applyChanges(stored, mine, [['cart', 'c'], ['cart', 'b']]),
      { cookie: { mine: true }, cart: { a: 1, c: 3 }, other: 'theirs' })
  })

  it('makes the objects on the way when the stored session lacks them', () => {
    const stored = { cookie: {}, a: 5 }
    const mine = { cookie: {}, deep: { er: { x: 1 } } }
    assert.deepEqual(applyChanges(stored, mine, [['deep', 'er', 'x']]), { cookie: {}, a: 5, deep: { er: { x: 1 } } })
  })

  it('lets an ancestor this request removed decide, not the path under it', () => {
    const stored = { cookie: {}, cart: { a: 1, b: 2 } }
    const mine = { cookie: {} }
    assert.deepEqual(applyChanges(stored, mine, [['cart', 'a'], ['cart']]), { cookie: {} })
  })

  it('writes `__proto__` as data, never as a prototype', () => {
    const stored = JSON.parse('{"cookie":{},"o":{}}')
    const mine = JSON.parse('{"cookie":{},"o":{"__proto__":{"polluted":true}}}')
    const merged = applyChanges(stored, mine, [['o', '__proto__']])
    assert.equal(Object.getPrototypeOf(merged.o), Object.prototype)
    assert.equal(JSON.stringify(merged.o), '{"__proto__":{"polluted":true}}')
  })
})
