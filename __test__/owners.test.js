'use strict'

// userOf: the native stores file each saved session under its owner, so an app
// can list a user's sessions ("your devices") and end all but one ("log out
// everywhere else"), and no request in flight brings an ended one back.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const session = require('..')
const { listen, appWith, send, cookiePair, storeCall, gates, holdAt } = require('./helpers')
const { needs } = require('./services')
const { startCluster } = require('./redis-servers')

const sidOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]

async function app (store) {
  const gate = gates()
  const mw = session({
    secret: 'owners',
    resave: false,
    saveUninitialized: false,
    store,
    userOf: (sess) => sess.user
  })
  const server = await listen(appWith(mw, async (req, res, next) => {
    try {
      if (req.query.hold) await holdAt(gate, req.query.hold)
      if (req.path === '/login') req.session.user = req.query.user
      if (req.path === '/note') req.session.note = req.query.note
      if (req.path === '/others-out') {
        const count = await store.destroySessionsOf(req.session.user, { except: req.sessionID })
        return res.json({ count })
      }
      if (req.path === '/devices') {
        const mine = await store.sessionsOf(req.session.user)
        return res.json(mine.map(({ id }) => id).sort())
      }
      res.json({ user: req.session.user })
    } catch (err) {
      next(err)
    }
  }))
  return { ...server, gate }
}

function scenarios (label, makeStore, service) {
  describe(`userOf (${label})`, needs(service), () => {
    let store
    let server
    before(async () => {
      store = await makeStore()
      server = await app(store)
    })
    after(async () => {
      await server.close()
      if (store.close) await store.close()
    })

    const login = async (user) => cookiePair(await send(server.url + '/login?user=' + user))
    const as = (cookie) => ({ headers: { cookie } })

    it('lists an owner\'s live sessions and ends all but one', async () => {
      const phone = await login('alice')
      const laptop = await login('alice')
      const tablet = await login('alice')
      const bobs = await login('bob')

      const devices = JSON.parse((await send(server.url + '/devices', as(phone))).body)
      assert.deepEqual(devices, [phone, laptop, tablet].map(sidOf).sort())
      const listed = await store.sessionsOf('alice')
      assert.ok(listed.every(({ session }) => session.user === 'alice'))

      assert.deepEqual(JSON.parse((await send(server.url + '/others-out', as(phone))).body), { count: 2 })
      assert.equal(JSON.parse((await send(server.url + '/', as(laptop))).body).user, undefined)
      assert.equal(JSON.parse((await send(server.url + '/', as(tablet))).body).user, undefined)
      assert.equal(JSON.parse((await send(server.url + '/', as(phone))).body).user, 'alice')
      assert.deepEqual((await store.sessionsOf('alice')).map(({ id }) => id), [sidOf(phone)])
      assert.deepEqual((await store.sessionsOf('bob')).map(({ id }) => id), [sidOf(bobs)])
    })

    it('follows a session whose owner changes, or that is destroyed', async () => {
      const shared = await login('carol')
      const other = await login('carol')
      await send(server.url + '/login?user=dave', as(shared))
      assert.deepEqual((await store.sessionsOf('carol')).map(({ id }) => id), [sidOf(other)])
      assert.deepEqual((await store.sessionsOf('dave')).map(({ id }) => id), [sidOf(shared)])
      await storeCall(store, 'destroy', sidOf(other))
      assert.deepEqual(await store.sessionsOf('carol'), [])
    })

    it('a request in flight does not bring back a session ended everywhere', async () => {
      for (let i = 0; i < 5; i++) {
        const kept = await login('erin')
        const ended = await login('erin')
        const r1 = send(server.url + `/note?note=late&hold=flight-${i}`, as(ended))
        await server.gate(`flight-${i}`).reached
        assert.deepEqual(JSON.parse((await send(server.url + '/others-out', as(kept))).body), { count: 1 })
        server.gate(`flight-${i}`).release()
        assert.equal((await r1).status, 200)
        assert.equal(await storeCall(store, 'get', sidOf(ended)) ?? undefined, undefined)
        assert.deepEqual((await store.sessionsOf('erin')).map(({ id }) => id), [sidOf(kept)])
        await storeCall(store, 'destroy', sidOf(kept))
      }
    })

    it('keeps the index out of the sessions the store lists', async () => {
      const ids = await storeCall(store, 'all')
      const list = Array.isArray(ids) ? ids : Object.values(ids)
      assert.ok(list.every((s) => s && s.cookie), 'every listed entry is a session')
    })
  })
}

scenarios('MemoryStore', () => new session.MemoryStore())
scenarios('RedisStore', () => new session.RedisStore({ prefix: `esrs-owners:${process.pid}:` }), 'redis')

describe('on a Redis Cluster', needs('redis-server'), () => {
  let cluster
  before(async () => { cluster = await startCluster(3) })
  after(async () => { await cluster.stop() })
  scenarios('RedisStore, Cluster', () => new session.RedisStore({ cluster: cluster.urls, prefix: 'o:' }))
})

describe('userOf without an index', () => {
  it('is a TypeError with a store written in JS', () => {
    class JsStore extends session.Store {
      get (sid, cb) { cb() }
      set (sid, sess, cb) { cb() }
      destroy (sid, cb) { cb() }
    }
    assert.throws(() => session({ secret: 's', store: new JsStore(), userOf: (s) => s.user }), /userOf option needs a store with an owner index/)
    assert.throws(() => session({ secret: 's', userOf: 'user' }), TypeError)
  })
})
