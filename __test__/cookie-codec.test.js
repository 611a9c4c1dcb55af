'use strict'

// The native cookie codec against the packages express-session uses: `cookie`
// for reading and writing headers, `cookie-signature` for signatures. Random
// headers are generated from a fixed seed so a failure can be replayed.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const native = require('../lib/native')
const session = require('..')
const { loadTestAddon } = require('./test-addon')

const fromExpressSession = (name) => require(require.resolve(name, { paths: [require.resolve('express-session')] }))
const cookie = fromExpressSession('cookie')
const signature = fromExpressSession('cookie-signature')

// A small deterministic PRNG (mulberry32).
function random (seed) {
  return function next () {
    seed = (seed + 0x6D2B79F5) | 0
    let t = seed
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const PIECES = [' ', '\t', ';', '=', '"', '%', '%2', '%3A', '%C3%A9', '%E0%A4%A', '%zz', 's:', '.', 'a', 'b', 'sid', 'é', '\u00ff', '\u0001', 'connect.sid', '+', '/']

function randomHeader (next, signedValue) {
  const parts = []
  const count = Math.floor(next() * 12)
  for (let i = 0; i < count; i++) {
    if (next() < 0.15) parts.push('connect.sid=' + signedValue)
    else parts.push(PIECES[Math.floor(next() * PIECES.length)])
  }
  return parts.join('')
}

// express-session's own reading of the ID, with the packages it uses.
function referenceId (header, secrets) {
  const raw = cookie.parse(header)['connect.sid']
  if (!raw || raw.substr(0, 2) !== 's:') return null
  for (const secret of secrets) {
    const value = signature.unsign(raw.slice(2), secret)
    if (value !== false) return value
  }
  return null
}

describe('reading the session ID from a Cookie header', () => {
  it('agrees with cookie + cookie-signature on 20,000 random headers', () => {
    const next = random(20261127)
    const secrets = ['keyboard cat', 'old secret']
    const codec = new native.SessionCookieCodec('connect.sid', secrets)
    for (let i = 0; i < 20000; i++) {
      const id = ['abc', 'x.y', '', 'é%'][i % 4]
      const signedValue = encodeURIComponent('s:' + signature.sign(id, secrets[i % 2]))
      const header = randomHeader(next, next() < 0.5 ? signedValue : signedValue.slice(0, -3))
      assert.equal(codec.readId(header), referenceId(header, secrets), JSON.stringify(header))
    }
  })

  it('rejects a signature followed by extra characters, which cookie-signature 1.0 accepts', () => {
    const codec = new native.SessionCookieCodec('connect.sid', ['keyboard cat'])
    const signed = 's:' + signature.sign('abc', 'keyboard cat')
    assert.equal(codec.readId('connect.sid=' + encodeURIComponent(signed)), 'abc')
    assert.equal(codec.readId('connect.sid=' + encodeURIComponent(signed + 'junk')), null)
  })

  it('decodes values as cookie.parse does', () => {
    // decodeCookieValue is a test hook: only the test addon exports it.
    const { decodeCookieValue } = loadTestAddon()
    const next = random(7)
    for (let i = 0; i < 5000; i++) {
      const value = randomHeader(next, 'x').replace(/[;="\s]/g, '')
      assert.equal(decodeCookieValue(value), cookie.parse('a=' + value).a ?? '', JSON.stringify(value))
    }
  })
})

describe('writing Set-Cookie', () => {
  it('matches cookie.serialize for every attribute combination', () => {
    const next = random(99)
    const choices = {
      expires: [undefined, new Date(0), new Date(Date.UTC(2030, 5, 1, 12, 30, 15)), new Date(-62198755200000), new Date(8.64e15)],
      domain: [undefined, '', 'example.com', '.example.com', 'a-b.c0'],
      path: [undefined, '', '/', '/a b/c'],
      httpOnly: [undefined, true, false],
      secure: [undefined, true, false],
      partitioned: [undefined, true],
      priority: [undefined, 'low', 'Medium', 'HIGH'],
      sameSite: [undefined, true, false, 'lax', 'Strict', 'NONE']
    }
    for (let i = 0; i < 3000; i++) {
      const options = {}
      for (const [key, values] of Object.entries(choices)) options[key] = values[Math.floor(next() * values.length)]
      const value = ['s:abc.def+/=', 'plain', 'é ;,"'][i % 3]
      assert.equal(session.Cookie.serializeCookie('connect.sid', value, options), cookie.serialize('connect.sid', value, options), JSON.stringify(options))
    }
  })

  it('throws the TypeErrors cookie.serialize throws', () => {
    const cases = [
      ['bad name', {}],
      ['a', { domain: 'exa mple.com' }],
      ['a', { path: '/a;b' }],
      ['a', { expires: new Date(NaN) }],
      ['a', { expires: 'tomorrow' }],
      ['a', { priority: 'urgent' }],
      ['a', { priority: true }],
      ['a', { sameSite: 'sometimes' }]
    ]
    for (const [name, options] of cases) {
      let expected
      try { cookie.serialize(name, 'v', options) } catch (err) { expected = err }
      assert.ok(expected, 'the reference throws for ' + JSON.stringify(options))
      assert.throws(() => session.Cookie.serializeCookie(name, 'v', options), (err) => err instanceof TypeError && err.message === expected.message)
    }
  })

  it('signs byte for byte as express-session does', () => {
    const codec = new native.SessionCookieCodec('connect.sid', [Buffer.from('keyboard cat'), 'other'])
    const header = codec.setCookie('some-id', undefined, undefined, '/', true, false, false, undefined, undefined)
    const expected = cookie.serialize('connect.sid', 's:' + signature.sign('some-id', 'keyboard cat'), { path: '/', httpOnly: true })
    assert.equal(header, expected)
  })
})

describe('session IDs', () => {
  it('are 32 base64url characters and do not repeat', () => {
    const seen = new Set()
    for (let i = 0; i < 10000; i++) {
      const id = native.generateSessionId()
      assert.match(id, /^[A-Za-z0-9_-]{32}$/)
      seen.add(id)
    }
    assert.equal(seen.size, 10000)
  })
})
