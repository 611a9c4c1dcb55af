'use strict'

// The fast session serializer must write exactly what JSON.stringify writes,
// and split it at the cookie only where the split is exact.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const Cookie = require('../lib/cookie')
const { serializeSession, serializeData, cookieJson, isoString } = require('../lib/tracking/session-json')

// A small deterministic generator, so a failure names its seed.
function random (seed) {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

describe('isoString', () => {
  it('is toISOString for times across the four-digit years', () => {
    const next = random(7)
    const limits = [0, -1, 1, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(0, 0, 1), Date.UTC(2024, 1, 29, 12)]
    for (const t of limits) assert.equal(isoString(t), new Date(t).toISOString(), String(t))
    for (let i = 0; i < 20000; i++) {
      const t = Math.floor((next() * 2 - 1) * 8.64e15)
      assert.equal(isoString(t), new Date(t).toISOString(), String(t))
    }
  })
})

describe('cookieJson', () => {
  const variants = [
    {},
    { maxAge: 60000 },
    { maxAge: 60000, secure: true, sameSite: 'lax', domain: 'example.com', path: '/app' },
    { expires: new Date(Date.UTC(2030, 0, 1)), httpOnly: false, partitioned: true, priority: 'high' },
    { maxAge: 1.5, sameSite: true, domain: 'quote"d\u2028' },
    { expires: new Date(NaN) },
    { maxAge: 1000, path: null, secure: 'auto' }
  ]
  for (const options of variants) {
    it(`writes ${JSON.stringify(options)} as JSON.stringify does`, () => {
      const cookie = new Cookie(options)
      assert.equal(cookieJson(cookie), JSON.stringify(cookie))
    })
  }

  it('falls back for values it does not write itself', () => {
    const cookie = new Cookie({ maxAge: 1000 })
    cookie.domain = { toJSON: () => 'from toJSON' }
    assert.equal(cookieJson(cookie), JSON.stringify(cookie))
    const date = new Date(0)
    date.toJSON = () => 'custom'
    cookie.expires = date
    assert.equal(cookieJson(cookie), JSON.stringify(cookie))
    assert.equal(cookieJson({ plain: true }), '{"plain":true}')
    assert.equal(cookieJson(undefined), undefined)
  })
})

describe('serializeSession', () => {
  function sessionWith (data) {
    const target = { cookie: new Cookie({ maxAge: 60000 }) }
    return Object.assign(target, data)
  }

  const cases = {
    'only a cookie': sessionWith({}),
    'nested data': sessionWith({ user: { id: 1, roles: ['a', 'b'] }, n: 0, s: 'x"y' }),
    'undefined and functions': sessionWith({ a: undefined, f () {}, b: null }),
    'integer keys come first': sessionWith({ 1: 'one', a: 2 }),
    'a plain cookie object': { cookie: { path: '/' }, a: 1 },
    'cookie not first': { a: 1, cookie: new Cookie() },
    'no cookie': { a: 1 },
    'a toJSON of its own': Object.assign(sessionWith({}), { toJSON () { return 'mine' } })
  }

  // express-session's hash input: the JSON without the top-level cookie.
  function withoutCookie (value) {
    return JSON.stringify(value, function (key, val) {
      return this === value && key === 'cookie' ? undefined : val
    })
  }

  for (const [name, value] of Object.entries(cases)) {
    it(`${name}: the JSON is JSON.stringify's, the data what it is without the cookie`, () => {
      const { json, data } = serializeSession(value)
      assert.equal(json, JSON.stringify(value))
      assert.equal(serializeData(value), data)
      const expected = withoutCookie(value)
      if (typeof value.toJSON !== 'function') {
        assert.equal(data, expected === '{}' ? '}' : ',' + expected.slice(1))
      }
      if (Object.keys(value)[0] === 'cookie' && typeof value.toJSON !== 'function') {
        assert.equal(json, '{"cookie":' + JSON.stringify(value.cookie) + data)
      }
    })
  }

  it('data follows what a toJSON gives, its cookie left out', () => {
    const session = Object.assign(sessionWith({}), { toJSON () { return { cookie: 1, a: 1 } } })
    assert.equal(serializeSession(session).data, ',"a":1}')
  })

  it('splits where the cookie is first, so data changes show and cookie changes do not', () => {
    const session = sessionWith({ n: 1 })
    const before = serializeSession(session).data
    assert.equal(before, ',"n":1}')
    session.cookie.maxAge = 5
    assert.equal(serializeSession(session).data, before)
    session.n = 2
    assert.notEqual(serializeSession(session).data, before)
    assert.equal(serializeSession(sessionWith({ 1: 'x' })).data, ',"1":"x"}')
  })
})

describe('dataStart', () => {
  const { dataStart } = require('../lib/tracking/session-json')

  it('finds the end of the cookie in what JSON.stringify writes', () => {
    const next = random(11)
    const values = [null, true, 0, -1.5e-7, '}', '\\', '"\\]', 'é\u2028', [], [1, ['}']], {}, { a: { b: '{' } }]
    for (let i = 0; i < 2000; i++) {
      const pick = () => values[Math.floor(next() * values.length)]
      const cookie = next() < 0.8 ? new Cookie({ maxAge: Math.floor(next() * 1e6), domain: next() < 0.3 ? 'a"}b\\' : undefined }) : pick()
      const session = { cookie }
      for (let k = Math.floor(next() * 3); k > 0; k--) session['k' + k] = pick()
      const json = JSON.stringify(session)
      const expected = '{"cookie":'.length + JSON.stringify(cookie).length
      assert.equal(dataStart(json), expected, json)
    }
  })

  it('is -1 for text laid out otherwise or cut short', () => {
    for (const text of ['', '{}', '{"a":1,"cookie":{}}', '{ "cookie":{}}', '{"cookie":', '{"cookie":{"p":"x', '{"cookie":{"p":1}']) {
      assert.equal(dataStart(text), -1, text)
    }
  })
})
