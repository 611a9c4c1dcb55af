'use strict'

// Hostile requests and broken store data: each gets a fresh session or a clear
// error through next(err), never a crash, a hang or another visitor's session.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const express = require('express')
const session = require('..')
const { send, sendRaw, cookiePair, storeCall } = require('./helpers')

const sidOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]

// A server that accepts headers up to 128 KB, so 64 KB Cookie headers reach the app.
function bigHeaderServer (app) {
  return new Promise((resolve) => {
    const server = http.createServer({ maxHeaderSize: 128 * 1024 }, app)
    server.listen(0, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${server.address().port}`,
      close: () => new Promise((resolve) => server.close(resolve))
    }))
  })
}

function appFor (store, extra = {}) {
  const app = express()
  app.use(session({ secret: ['current secret', 'previous secret'], resave: false, saveUninitialized: false, store, ...extra }))
  app.use((req, res) => {
    if (req.path === '/login') req.session.user = req.query.name
    res.json({ sid: req.sessionID, user: req.session.user || null })
  })
  app.use((err, req, res, next) => res.status(500).json({ error: err.message }))
  return app
}

describe('hostile Cookie headers', () => {
  const store = new session.MemoryStore()
  let server
  let alice

  before(async () => {
    server = await bigHeaderServer(appFor(store))
    alice = cookiePair(await send(server.url + '/login?name=alice'))
  })

  after(() => server.close())

  async function asAnonymous (cookie) {
    const response = await sendRaw(server.url, { cookie })
    // Node's own parser turns away some bytes (400) before any middleware runs.
    if (response.status === 400) return null
    assert.equal(response.status, 200, `status for ${JSON.stringify(cookie).slice(0, 80)}`)
    const body = JSON.parse(response.body)
    assert.equal(body.user, null, 'no one\'s session')
    assert.notEqual(body.sid, sidOf(alice))
    return body
  }

  it('still knows the real visitor', async () => {
    const body = JSON.parse((await send(server.url + '/', { headers: { cookie: alice } })).body)
    assert.equal(body.user, 'alice')
  })

  it('gives a fresh session for malformed headers', async () => {
    const value = alice.split('=')[1]
    const cases = [
      'connect.sid',
      'connect.sid=',
      '=' + value,
      ';;;;',
      'connect.sid="' + value,
      'connect.sid=%',
      'connect.sid=%E0%A4%A',
      'connect.sid=s%3A%FF%FE.%00',
      'connect.sid=\u0001\u0002\u007f',
      'connect.sid=\u00e9\u00ff' + value,
      'connect.sid=' + value.replace('s%3A', ''),
      'connect.sid=' + value.slice(0, -5),
      'connect.sid=' + value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A'),
      'connect.sid=' + value + 'trailing',
      'connect.sid=s%3A' + sidOf(alice)
    ]
    for (const cookie of cases) await asAnonymous(cookie)
  })

  it('gives a fresh session for a 64 KB header and for thousands of pairs', async () => {
    await asAnonymous('connect.sid=' + 'x'.repeat(64 * 1024))
    await asAnonymous(Array.from({ length: 5000 }, (_, i) => `c${i}=${i}`).join('; '))
    const many = Array.from({ length: 3000 }, (_, i) => `c${i}=v`).join('; ') + '; ' + alice
    const body = JSON.parse((await send(server.url + '/', { headers: { cookie: many } })).body)
    assert.equal(body.user, 'alice', 'the real cookie after 3000 others still counts')
  })

  it('takes the first of repeated session cookies, as express-session does', async () => {
    const forged = 'connect.sid=s%3Aforged.signature'
    assert.equal(JSON.parse((await send(server.url + '/', { headers: { cookie: `${alice}; ${forged}` } })).body).user, 'alice')
    await asAnonymous(`${forged}; ${alice}`)
  })

  it('rejects cookies signed with a secret that has been removed', async () => {
    const signedByOld = cookiePair(await send(server.url + '/login?name=old'))
    const rotated = await bigHeaderServer(appFor(store, { secret: ['new secret only'] }))
    try {
      const body = JSON.parse((await send(rotated.url + '/', { headers: { cookie: signedByOld } })).body)
      assert.equal(body.user, null)
    } finally {
      await rotated.close()
    }
  })
})

describe('session IDs with unusual characters from a custom genid', () => {
  it('round-trips them through the cookie', async () => {
    for (const id of ['a;b=c d', 'ünïcödé ✓', '"quoted"', 'dots.in.the.id', '%41%', 'x'.repeat(2000)]) {
      const store = new session.MemoryStore()
      const server = await bigHeaderServer(appFor(store, { genid: () => id }))
      try {
        const cookie = cookiePair(await send(server.url + '/login?name=zoe'))
        const body = JSON.parse((await send(server.url + '/', { headers: { cookie } })).body)
        assert.deepEqual(body, { sid: id, user: 'zoe' }, id)
      } finally {
        await server.close()
      }
    }
  })
})

describe('broken store data', () => {
  async function requestWithStored (data) {
    const store = new session.MemoryStore()
    const server = await bigHeaderServer(appFor(store))
    try {
      const cookie = cookiePair(await send(server.url + '/login?name=mallory'))
      const sid = sidOf(cookie)
      const sessions = store[session.MemoryStore.kNativeSessions]
      sessions.set(sid, typeof data === 'string' ? data : JSON.stringify(data), NaN)
      const response = await send(server.url + '/', { headers: { cookie } })
      return { response, body: JSON.parse(response.body), store, sid }
    } finally {
      await server.close()
    }
  }

  it('passes an error for text that is not JSON', async () => {
    const { response, body } = await requestWithStored('{"cookie":')
    assert.equal(response.status, 500)
    assert.match(body.error, /JSON/)
  })

  it('passes an error for a session without a cookie, as express-session does', async () => {
    const { response } = await requestWithStored({ user: 'x' })
    assert.equal(response.status, 500)
  })

  it('copes with a cookie.expires that is not a date', async () => {
    const { response, body } = await requestWithStored({ cookie: { expires: 'not a date', path: '/' }, user: 'eve' })
    assert.equal(response.status, 200)
    assert.equal(body.user, 'eve')
  })

  it('does not let stored __proto__ or constructor keys pollute prototypes', async () => {
    const { response } = await requestWithStored('{"cookie":{"path":"/"},"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"user":"x"}')
    assert.equal(response.status, 200)
    assert.equal(({}).polluted, undefined)
    assert.equal(Object.prototype.polluted, undefined)
  })

  it('stores and loads a 1 MB session', async () => {
    const store = new session.MemoryStore()
    const big = 'x'.repeat(1024 * 1024)
    const app = express()
    app.use(session({ secret: 's', resave: false, saveUninitialized: false, store }))
    app.use((req, res) => {
      if (req.path === '/fill') req.session.blob = big
      res.end(String(req.session.blob ? req.session.blob.length : 0))
    })
    const server = await bigHeaderServer(app)
    try {
      const cookie = cookiePair(await send(server.url + '/fill'))
      assert.equal((await send(server.url + '/', { headers: { cookie } })).body, String(big.length))
      assert.equal((await storeCall(store, 'get', sidOf(cookie))).blob.length, big.length)
    } finally {
      await server.close()
    }
  })
})

describe('stores that misbehave', () => {
  class BrokenStore extends session.Store {
    constructor (behaviour) {
      super()
      this.behaviour = behaviour
      this.data = new Map()
    }

    get (sid, cb) { return this.behaviour.get ? this.behaviour.get(sid, cb) : cb(null, this.data.has(sid) ? JSON.parse(this.data.get(sid)) : null) }
    set (sid, sess, cb) { return this.behaviour.set ? this.behaviour.set(sid, sess, cb) : (this.data.set(sid, JSON.stringify(sess)), cb()) }
    destroy (sid, cb) { this.data.delete(sid); cb() }
  }

  async function visit (store, options = {}) {
    const server = await bigHeaderServer(appFor(store, options))
    try {
      const first = await send(server.url + '/login?name=bob')
      const again = first.status === 200 ? await send(server.url + '/', { headers: { cookie: cookiePair(first) } }) : null
      return { first, again }
    } finally {
      await server.close()
    }
  }

  it('passes a synchronous throw from get to next(err)', async () => {
    const { again } = await visit(new BrokenStore({ get: () => { throw new Error('get exploded') } }))
    assert.equal(again.status, 500)
    assert.equal(JSON.parse(again.body).error, 'get exploded')
  })

  it('finishes the response and passes a synchronous throw from set to next(err)', async () => {
    const errors = []
    const store = new BrokenStore({ set: () => { throw new Error('set exploded') } })
    const app = express()
    app.use(session({ secret: 's', resave: false, saveUninitialized: true, store }))
    app.use((req, res) => res.end('done'))
    app.use((err, req, res, next) => errors.push(err.message))
    const server = await bigHeaderServer(app)
    try {
      assert.equal((await send(server.url)).body, 'done')
      await new Promise((resolve) => setTimeout(resolve, 50))
      assert.deepEqual(errors, ['set exploded'])
    } finally {
      await server.close()
    }
  })

  it('passes a non-Error failure on as it is', async () => {
    // eslint-disable-next-line n/no-callback-literal
    const { again } = await visit(new BrokenStore({ get: (sid, cb) => cb('just a string') }))
    assert.equal(again.status, 500)
  })

  it('answers with an error, not a hang, when get never calls back', async () => {
    const started = Date.now()
    const { again } = await visit(new BrokenStore({ get: () => {} }), { storeTimeout: 200 })
    assert.equal(again.status, 500)
    assert.match(JSON.parse(again.body).error, /did not answer/)
    assert.ok(Date.now() - started < 2000)
  })

  it('finishes the response when set never calls back', async () => {
    const errors = []
    const store = new BrokenStore({ set: () => {} })
    const app = express()
    app.use(session({ secret: 's', resave: false, saveUninitialized: true, store, storeTimeout: 200 }))
    app.use((req, res) => res.end('done'))
    app.use((err, req, res, next) => errors.push(err.message))
    const server = await bigHeaderServer(app)
    try {
      assert.equal((await send(server.url)).body, 'done')
      await new Promise((resolve) => setTimeout(resolve, 50))
      assert.equal(errors.length, 1)
      assert.match(errors[0], /did not answer/)
    } finally {
      await server.close()
    }
  })
})
