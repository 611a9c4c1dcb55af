'use strict'

// Dirty tracking through the req.session Proxy: no serialization when nothing
// changed, one when something did, and no change missed.

const { describe, it, beforeEach, afterEach } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const express = require('express')
const session = require('..')
const { listen, appWith, send, cookiePair, storeCall } = require('./helpers')

// Counts serializations of whole sessions during a request: the tracker's own
// (lib/session-json.js) and any JSON.stringify of a Session.
const sessionJson = require('../lib/tracking/session-json')
let sessionSerializations = 0
const realStringify = JSON.stringify
const realSerializeSession = sessionJson.serializeSession
beforeEach(() => {
  sessionSerializations = 0
  JSON.stringify = function (value, ...rest) {
    if (value instanceof session.Session) sessionSerializations++
    return realStringify.call(this, value, ...rest)
  }
  sessionJson.serializeSession = function (value) {
    sessionSerializations++
    // JSON.stringify on what it wraps is not a second serialization.
    JSON.stringify = realStringify
    try {
      return realSerializeSession(value)
    } finally {
      JSON.stringify = countingStringify
    }
  }
  const countingStringify = JSON.stringify
})
afterEach(() => {
  JSON.stringify = realStringify
  sessionJson.serializeSession = realSerializeSession
})

// A store written in JS: the middleware never sees its JSON text.
class JsonStore extends session.Store {
  constructor () {
    super()
    this.data = new Map()
  }

  get (sid, cb) { setImmediate(cb, null, this.data.has(sid) ? JSON.parse(this.data.get(sid)) : null) }
  set (sid, sess, cb) { this.data.set(sid, realStringify(sess)); setImmediate(cb) }
  destroy (sid, cb) { this.data.delete(sid); setImmediate(cb) }
}

async function withApp (options, handler, body) {
  const store = options.store || new session.MemoryStore()
  const writes = []
  const set = store.set
  store.set = function (sid, sess, cb) {
    writes.push(sid)
    return set.call(this, sid, sess, cb)
  }
  const server = await listen(appWith(session({ secret: 's', store, cookie: { maxAge: 60000 }, ...options }), handler))
  try {
    await body(server.url, store, writes)
  } finally {
    await server.close()
  }
}

describe('dirty tracking', () => {
  it('serializes nothing and writes nothing for a visitor who only reads', () =>
    withApp({ resave: false, saveUninitialized: false }, (req, res) => {
      if (req.path === '/login') req.session.user = { name: 'bob', roles: ['admin'] }
      res.end(req.session.user ? 'hello' : 'anonymous')
    }, async (url, store, writes) => {
      const login = await send(url + '/login')
      const cookie = cookiePair(login)
      writes.length = 0
      sessionSerializations = 0
      for (let i = 0; i < 5; i++) {
        assert.equal((await send(url + '/', { headers: { cookie } })).body, 'hello')
      }
      assert.equal(writes.length, 0)
      assert.equal(sessionSerializations, 0)
    }))

  it('serializes nothing for a visitor who reads nested data', () =>
    withApp({ resave: false, saveUninitialized: false }, (req, res) => {
      if (req.path === '/login') req.session.user = { name: 'bob', roles: ['admin'] }
      res.end(req.session.user.roles.includes('admin') ? 'admin ' + req.session.user.name : 'user')
    }, async (url, store, writes) => {
      const cookie = cookiePair(await send(url + '/login'))
      writes.length = 0
      sessionSerializations = 0
      assert.equal((await send(url + '/', { headers: { cookie } })).body, 'admin bob')
      assert.equal(writes.length, 0)
      assert.equal(sessionSerializations, 0)
    }))

  it('saves nested data changed through a reference kept across an explicit save', () =>
    withApp({ resave: false, saveUninitialized: false }, (req, res) => {
      if (req.path === '/login') {
        req.session.user = { name: 'bob' }
        return res.end('in')
      }
      const user = req.session.user
      assert.equal(req.session.user, user, 'the same object on every read')
      req.session.save(() => {
        user.name = 'alice'
        res.end('renamed')
      })
    }, async (url, store) => {
      const cookie = cookiePair(await send(url + '/login'))
      assert.equal((await send(url + '/rename', { headers: { cookie } })).body, 'renamed')
      const sid = decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
      assert.equal((await storeCall(store, 'get', sid)).user.name, 'alice')
    }))

  it('serializes nothing for a reading visitor with a store written in JS', () =>
    withApp({ resave: false, saveUninitialized: false, store: new JsonStore() }, (req, res) => {
      if (req.path === '/login') req.session.user = { name: 'bob' }
      res.end(req.session.user.name)
    }, async (url, store, writes) => {
      const cookie = cookiePair(await send(url + '/login'))
      writes.length = 0
      sessionSerializations = 0
      assert.equal((await send(url + '/', { headers: { cookie } })).body, 'bob')
      assert.equal(writes.length, 0)
      assert.equal(sessionSerializations, 0)
    }))

  it('serializes a written session once for the digest and the store', () =>
    withApp({ resave: false, saveUninitialized: false }, (req, res) => {
      req.session.n = (req.session.n || 0) + 1
      res.end(String(req.session.n))
    }, async (url, store, writes) => {
      const first = await send(url)
      sessionSerializations = 0
      assert.equal((await send(url, { headers: { cookie: cookiePair(first) } })).body, '2')
      assert.equal(writes.length, 2)
      assert.equal(sessionSerializations, 1)
    }))

  it('saves a change made inside a nested object', () =>
    withApp({ resave: false, saveUninitialized: false }, (req, res) => {
      if (req.path === '/start') req.session.cart = { items: [] }
      else req.session.cart.items.push(req.path.slice(1))
      res.end(req.session.cart.items.join(','))
    }, async (url, store) => {
      const cookie = cookiePair(await send(url + '/start'))
      await send(url + '/apple', { headers: { cookie } })
      assert.equal((await send(url + '/pear', { headers: { cookie } })).body, 'apple,pear')
      const sid = decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
      assert.deepEqual((await storeCall(store, 'get', sid)).cart, { items: ['apple', 'pear'] })
    }))

  it('saves an object changed through a reference kept after an explicit save', () =>
    withApp({ resave: false, saveUninitialized: false }, (req, res) => {
      const profile = { step: 1 }
      req.session.profile = profile
      req.session.save(() => {
        profile.step = 2
        res.end('ok')
      })
    }, async (url, store) => {
      const cookie = cookiePair(await send(url))
      const sid = decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
      assert.deepEqual((await storeCall(store, 'get', sid)).profile, { step: 2 })
    }))

  it('does not save a session whose values were written back unchanged', () =>
    withApp({ resave: false, saveUninitialized: false }, (req, res) => {
      req.session.n = req.path === '/set' ? 1 : req.session.n
      res.end(String(req.session.n))
    }, async (url, store, writes) => {
      const cookie = cookiePair(await send(url + '/set'))
      writes.length = 0
      assert.equal((await send(url + '/', { headers: { cookie } })).body, '1')
      assert.equal(writes.length, 0)
    }))

  it('sees deletions', () =>
    withApp({ resave: false, saveUninitialized: false }, (req, res) => {
      if (req.path === '/set') req.session.flag = true
      else delete req.session.flag
      res.end(String(req.session.flag))
    }, async (url, store) => {
      const cookie = cookiePair(await send(url + '/set'))
      await send(url + '/clear', { headers: { cookie } })
      const sid = decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
      assert.equal('flag' in (await storeCall(store, 'get', sid)), false)
    }))
})

describe('what the middleware leaves on req', () => {
  // Express changes every request's prototype, after which V8 gives the request
  // a new map for each property added to it: the middleware adds only the three
  // that express-session's API has, and keeps its own state elsewhere.
  // What `record(req)` saw in an app with `middleware`, on a first visit to
  // `firstPath` and a return visit to `/` with the cookie that visit got.
  async function twoVisits (middleware, options, firstPath, record) {
    const seen = []
    const app = express()
    const before = new WeakMap()
    app.use((req, res, next) => {
      before.set(req, new Set(Reflect.ownKeys(req)))
      next()
    })
    app.use(middleware({ secret: 's', resave: false, ...options }))
    app.use((req, res) => {
      seen.push(record(req, before.get(req)))
      res.end('ok')
    })
    const server = await listen(app)
    try {
      const cookie = cookiePair(await send(server.url + firstPath))
      await send(server.url, { headers: { cookie } })
    } finally {
      await server.close()
    }
    return seen
  }

  it('adds to req what express-session adds, for new and returning visitors', async () => {
    const added = (middleware) => twoVisits(middleware, { saveUninitialized: true }, '/',
      (req, had) => Reflect.ownKeys(req).filter((key) => !had.has(key)).map(String).sort())
    const theirs = await added(require('express-session'))
    assert.deepEqual(theirs[0].filter((key) => key.startsWith('session')), ['session', 'sessionID', 'sessionStore'])
    // express-session also leaves parseurl's cache of the parsed original URL;
    // with the cookie path `/` there is nothing to parse here.
    assert.ok(theirs.every((keys) => keys.includes('_parsedOriginalUrl')))
    const withoutUrlCache = theirs.map((keys) => keys.filter((key) => key !== '_parsedOriginalUrl'))
    assert.deepEqual(await added(session), withoutUrlCache)
  })

  // The tracker is answered by the session's Proxy, not kept on the Session:
  // code that lists a session's own keys, symbols included, sees express-session's,
  // but for the `reload` and `save` wrappers express-session defines on a loaded
  // session (non-enumerable; here the prototype's methods do their work).
  it('gives req.session the own keys express-session gives it', async () => {
    const ownKeys = (middleware) => twoVisits(middleware, { saveUninitialized: false }, '/login', (req) => {
      if (req.path === '/login') req.session.user = 'bob'
      return Reflect.ownKeys(req.session).map(String)
    })
    const theirs = (await ownKeys(require('express-session')))
      .map((keys) => keys.filter((key) => key !== 'reload' && key !== 'save'))
    assert.deepEqual(theirs, [['req', 'id', 'cookie', 'user'], ['req', 'id', 'cookie', 'user']])
    assert.deepEqual(await ownKeys(session), theirs)
  })

  it('still tracks the session that regenerate and reload put in place', () =>
    withApp({ resave: false, saveUninitialized: false }, (req, res, next) => {
      if (req.path === '/login') {
        req.session.user = 'bob'
        return res.end('in')
      }
      req.session.regenerate((err) => {
        if (err) return next(err)
        const regenerated = util.types.isProxy(req.session)
        req.session.user = 'alice'
        req.session.save((err) => {
          if (err) return next(err)
          req.session.reload((err) => {
            if (err) return next(err)
            res.end(`${regenerated} ${util.types.isProxy(req.session)} ${req.session.user}`)
          })
        })
      })
    }, async (url, store) => {
      const login = await send(url + '/login')
      const res = await send(url + '/', { headers: { cookie: cookiePair(login) } })
      assert.equal(res.body, 'true true alice')
      const sid = decodeURIComponent(cookiePair(res).split('=')[1]).slice(2).split('.')[0]
      const stored = await storeCall(store, 'get', sid)
      assert.equal(stored.user, 'alice')
    }))
})
