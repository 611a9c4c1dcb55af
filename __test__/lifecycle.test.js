'use strict'

// Session lifecycle options (touchAfter, absoluteTimeout) and the middleware's
// metrics, over HTTP on the native MemoryStore and RedisStore.

const { describe, it, after } = require('node:test')
const assert = require('node:assert/strict')
const { createClient } = require('redis')
const { RedisStore: ConnectRedisStore } = require('connect-redis')
const expressSession = require('express-session')
const session = require('..')
const { listen, appWith, send, cookiePair, storeCall } = require('./helpers')
const { needs } = require('./services')
const { sleep } = require('./redis-servers')

const sidOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
const CREATED_AT = 'express-session-rs:createdAt'

async function server (options, store) {
  const mw = session({ secret: 'lifecycle', resave: false, saveUninitialized: false, store, cookie: { maxAge: 60000 }, ...options })
  const running = await listen(appWith(mw, (req, res) => {
    if (req.path === '/login') req.session.user = 'alice'
    res.json({ user: req.session.user, keys: Object.keys(req.session), has: CREATED_AT in req.session })
  }))
  return { ...running, mw }
}

const stores = [
  ['MemoryStore', () => new session.MemoryStore()],
  ['RedisStore', () => new session.RedisStore({ prefix: `esrs-lifecycle:${process.pid}:` })]
]

for (const [label, makeStore] of stores) {
  describe(`touchAfter (${label})`, needs(label === 'RedisStore' && 'redis'), () => {
    it('leaves out the store touch of a read within touchAfter of the last write, not after', async () => {
      const store = makeStore()
      const app = await server({ touchAfter: 300, rolling: true }, store)
      try {
        const cookie = cookiePair(await send(app.url + '/login'))
        const sid = sidOf(cookie)
        const written = (await storeCall(store, 'get', sid)).cookie.expires

        const early = await send(app.url + '/', { headers: { cookie } })
        assert.equal(JSON.parse(early.body).user, 'alice')
        assert.equal(early.setCookie.length, 1, 'the cookie still goes out as rolling says')
        assert.deepEqual([app.mw.metrics().touched, app.mw.metrics().touchSkipped], [0, 1])
        assert.equal((await storeCall(store, 'get', sid)).cookie.expires, written, 'the store was not touched')

        await sleep(350)
        await send(app.url + '/', { headers: { cookie } })
        assert.deepEqual([app.mw.metrics().touched, app.mw.metrics().touchSkipped], [1, 1])
        assert.notEqual((await storeCall(store, 'get', sid)).cookie.expires, written, 'touched after touchAfter')
      } finally {
        await app.close()
        if (store.close) await store.close()
      }
    })
  })

  describe(`absoluteTimeout (${label})`, needs(label === 'RedisStore' && 'redis'), () => {
    it('ends a session that old however active, and keeps its creation time out of sight', async () => {
      const store = makeStore()
      const app = await server({ absoluteTimeout: 400, rolling: true }, store)
      try {
        const cookie = cookiePair(await send(app.url + '/login'))
        const sid = sidOf(cookie)
        const stored = await storeCall(store, 'get', sid)
        assert.equal(typeof stored[CREATED_AT], 'number', 'stored with the session')

        await sleep(200)
        const active = JSON.parse((await send(app.url + '/', { headers: { cookie } })).body)
        assert.deepEqual(active, { user: 'alice', keys: ['cookie', 'user'], has: false })

        await sleep(300)
        const expired = await send(app.url + '/', { headers: { cookie } })
        assert.equal(JSON.parse(expired.body).user, undefined, 'a fresh session')
        assert.equal(await storeCall(store, 'get', sid) ?? undefined, undefined, 'destroyed in the store')
        assert.equal(app.mw.metrics().absoluteExpired, 1)

        const again = cookiePair(await send(app.url + '/login', { headers: { cookie } }))
        assert.notEqual(sidOf(again), sid, 'a new ID')
      } finally {
        await app.close()
        if (store.close) await store.close()
      }
    })
  })
}

describe('absoluteTimeout with other stores and readers', () => {
  const prefix = `esrs-lifecycle-interop:${process.pid}:`
  let client
  after(async () => { if (client) await client.quit() })

  it('travels through a store written in JS, and express-session + connect-redis still read the session', needs('redis'), async () => {
    client = createClient({ url: 'redis://127.0.0.1:6379' })
    await client.connect()
    // A store object each: a middleware gives its store its own `generate`.
    const app = await server({ absoluteTimeout: 60000 }, new ConnectRedisStore({ client, prefix }))
    const theirs = await listen(appWith(expressSession({ secret: 'lifecycle', resave: false, saveUninitialized: false, store: new ConnectRedisStore({ client, prefix }) }),
      (req, res) => res.json({ user: req.session.user })))
    try {
      const cookie = cookiePair(await send(app.url + '/login'))
      const raw = JSON.parse(await client.get(prefix + sidOf(cookie)))
      assert.equal(typeof raw[CREATED_AT], 'number')
      assert.deepEqual(JSON.parse((await send(theirs.url, { headers: { cookie } })).body), { user: 'alice' })
      assert.equal(JSON.parse((await send(app.url + '/', { headers: { cookie } })).body).has, false)
    } finally {
      await app.close()
      await theirs.close()
      await client.del(prefix + '*')
    }
  })

  it('rejects options that cannot work', () => {
    assert.throws(() => session({ secret: 's', touchAfter: 60000, cookie: { maxAge: 60000 } }), /touchAfter option must be smaller than cookie.maxAge/)
    assert.throws(() => session({ secret: 's', touchAfter: -1 }), TypeError)
    assert.throws(() => session({ secret: 's', absoluteTimeout: 0 }), TypeError)
    assert.throws(() => session({ secret: 's', absoluteTimeout: '1h' }), TypeError)
  })
})

describe('metrics', () => {
  for (const [label, makeStore] of stores) {
    it(`counts what the middleware did (${label})`, needs(label === 'RedisStore' && 'redis'), async () => {
      const store = makeStore()
      const mw = session({ secret: 'metrics', resave: false, saveUninitialized: false, store, unset: 'destroy' })
      const app = await listen(appWith(mw, async (req, res) => {
        if (req.path === '/login') req.session.user = 'alice'
        if (req.path === '/regenerate') await req.session.regenerate()
        if (req.path === '/logout') req.session = null
        res.end('ok')
      }))
      try {
        const cookie = cookiePair(await send(app.url + '/login'))
        await send(app.url + '/', { headers: { cookie } })
        await send(app.url + '/', { headers: { cookie: cookie + 'x' } })
        await send(app.url + '/', { headers: { cookie: 'connect.sid=s%3Anope.nope' } })
        await send(app.url + '/regenerate', { headers: { cookie } })
        const fresh = cookiePair(await send(app.url + '/login'))
        await send(app.url + '/logout', { headers: { cookie: fresh } })
        const m = mw.metrics()
        assert.equal(m.created, 4, 'regenerate counts apart')
        assert.equal(m.loaded, 3)
        assert.equal(m.notFound, 0)
        assert.equal(m.saved, 3)
        assert.equal(m.touched, 1)
        assert.equal(m.invalidSignature, 2)
        assert.equal(m.regenerated, 1)
        assert.equal(m.destroyed, 1, 'by unset; regenerate counts apart')
        assert.equal(m.storeErrors, 0)
        for (const operation of ['get', 'set', 'touch', 'destroy']) {
          const latency = m.storeLatency[operation]
          assert.ok(latency.count > 0, operation)
          assert.ok(latency.p50 <= latency.p99 && latency.p99 <= latency.max, JSON.stringify(latency))
        }
        assert.deepEqual(JSON.parse(JSON.stringify(m)), m, 'a plain object')
      } finally {
        await app.close()
        if (store.close) await store.close()
      }
    })
  }

  it('counts a store that fails or never answers', async () => {
    const store = new session.MemoryStore()
    store.get = (sid, cb) => { if (sid === 'slow') return; cb(new Error('boom')) }
    const mw = session({ secret: 'metrics', resave: false, saveUninitialized: false, store, storeTimeout: 50, genid: () => 'x' })
    const app = await listen(appWith(mw, (req, res) => res.end('ok')))
    try {
      const signed = async (id) => {
        const probe = session({ secret: 'metrics', resave: false, saveUninitialized: true, genid: () => id })
        const s = await listen(appWith(probe, (req, res) => res.end()))
        try { return cookiePair(await send(s.url)) } finally { await s.close() }
      }
      assert.equal((await send(app.url, { headers: { cookie: await signed('fails') } })).status, 500)
      assert.equal((await send(app.url, { headers: { cookie: await signed('slow') } })).status, 500)
      const m = mw.metrics()
      assert.equal(m.storeErrors, 1)
      assert.equal(m.storeTimeouts, 1)
      assert.equal(m.storeLatency.get.count, 2)
    } finally {
      await app.close()
    }
  })
})
