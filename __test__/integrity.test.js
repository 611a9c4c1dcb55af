'use strict'

// Concurrent requests on one session, with the interleaving forced: the server
// holds request R1 (after its session is loaded, before it changes anything)
// until request R2 has been answered, then lets R1 finish. On the native stores
// a logout or regenerate stays done, and both requests' changes land; with a
// store written against the callback API (or `lastWriteWins: true`) it is
// express-session's last write wins.

const net = require('net')
const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const session = require('..')
const { listen, appWith, send, cookiePair, storeCall, gates, holdAt } = require('./helpers')
const { needs } = require('./services')
const { startCluster } = require('./redis-servers')

const REPEAT = Number(process.env.INTEGRITY_REPEAT) || 10
const sidOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]

// Walks `path` (dot-separated) in `object`, making plain objects on the way.
function parentOf (object, path) {
  const keys = path.split('.')
  const last = keys.pop()
  let at = object
  for (const key of keys) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {}
    at = at[key]
  }
  return { at, last }
}

/** An app whose requests may wait at a named gate before they act. */
async function heldServer (store, options = {}) {
  const gate = gates()

  const middleware = session({
    secret: 'integrity',
    resave: false,
    saveUninitialized: false,
    store,
    cookie: { maxAge: 60000 },
    ...options
  })
  const server = await listen(appWith(middleware, async (req, res, next) => {
    try {
      const { hold, delay, path, value, user } = req.query
      if (delay) await new Promise((resolve) => setTimeout(resolve, Number(delay)))
      if (hold) await holdAt(gate, hold)
      switch (req.path) {
        case '/login':
          req.session.user = user || 'alice'
          req.session.cart = { x: 1, y: 1 }
          break
        case '/set': {
          const { at, last } = parentOf(req.session, path)
          at[last] = value
          break
        }
        case '/delete': {
          const { at, last } = parentOf(req.session, path)
          delete at[last]
          break
        }
        case '/logout':
          await req.session.destroy()
          break
        case '/regenerate':
          await req.session.regenerate()
          req.session.user = 'regenerated'
          break
        case '/rotate':
          await req.session.regenerate({ keep: true })
          break
        case '/rotate-twice':
          await req.session.regenerate({ keep: true })
          await req.session.regenerate({ keep: true })
          break
      }
      res.json(req.session ? { user: req.session.user, cart: req.session.cart } : {})
    } catch (err) {
      next(err)
    }
  }))
  return { ...server, gate }
}

/**
 * Sends R1 (held at `tag`), then R2 once R1 holds; releases R1 when R2 has
 * been answered. Resolves to both responses.
 */
async function interleave (server, tag, first, second) {
  const r1 = send(server.url + first.path + (first.path.includes('?') ? '&' : '?') + 'hold=' + tag, first.options)
  await server.gate(tag).reached
  const r2 = await send(server.url + second.path, second.options)
  server.gate(tag).release()
  return { r1: await r1, r2 }
}

const withCookie = (cookie) => ({ headers: { cookie } })

/** A TCP relay to `port` whose replies arrive `delay` ms late: a distant Redis. */
function latencyRelay (port, delay) {
  const sockets = new Set()
  const relay = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('data', (chunk) => upstream.write(chunk))
    upstream.on('data', (chunk) => setTimeout(() => client.destroyed || client.write(chunk), delay))
  })
  return new Promise((resolve) => relay.listen(0, '127.0.0.1', () => resolve({
    port: relay.address().port,
    close () {
      for (const socket of sockets) socket.destroy()
      relay.close()
    }
  })))
}

function scenarios (label, makeStore, service) {
  describe(`forced interleavings (${label})`, needs(service), () => {
    let store
    let server
    before(async () => {
      store = await makeStore()
      server = await heldServer(store)
    })
    after(async () => {
      await server.close()
      if (store.close) await store.close()
    })

    async function login () {
      const cookie = cookiePair(await send(server.url + '/login'))
      return { cookie, sid: sidOf(cookie) }
    }

    it('a logout stays a logout when a request that loaded the session writes after it', async () => {
      for (let i = 0; i < REPEAT; i++) {
        const { cookie, sid } = await login()
        const { r1, r2 } = await interleave(server, `logout-${i}`,
          { path: '/set?path=cart.a&value=1', options: withCookie(cookie) },
          { path: '/logout', options: withCookie(cookie) })
        assert.equal(r2.status, 200)
        assert.equal(r1.status, 200, 'the request that lost the race still gets its response')
        assert.equal(await storeCall(store, 'get', sid) ?? undefined, undefined, 'the destroyed session stays destroyed')
        assert.deepEqual(JSON.parse((await send(server.url + '/', withCookie(cookie))).body), { })
      }
    })

    it('both requests\' changes land: different paths in one object', async () => {
      for (let i = 0; i < REPEAT; i++) {
        const { cookie, sid } = await login()
        await interleave(server, `merge-${i}`,
          { path: '/set?path=cart.a&value=1', options: withCookie(cookie) },
          { path: '/set?path=cart.b&value=2', options: withCookie(cookie) })
        const stored = await storeCall(store, 'get', sid)
        assert.deepEqual(stored.cart, { x: 1, y: 1, a: '1', b: '2' })
        assert.equal(stored.user, 'alice')
      }
    })

    it('a key one request deleted stays deleted while the other adds one', async () => {
      for (let i = 0; i < REPEAT; i++) {
        const { cookie, sid } = await login()
        await interleave(server, `delete-${i}`,
          { path: '/delete?path=cart.x', options: withCookie(cookie) },
          { path: '/set?path=cart.z&value=3', options: withCookie(cookie) })
        assert.deepEqual((await storeCall(store, 'get', sid)).cart, { y: 1, z: '3' })
      }
    })

    it('the same path written by both: the later commit wins, the rest stays', async () => {
      for (let i = 0; i < REPEAT; i++) {
        const { cookie, sid } = await login()
        await interleave(server, `same-${i}`,
          { path: '/set?path=user&value=late', options: withCookie(cookie) },
          { path: '/set?path=user&value=early', options: withCookie(cookie) })
        const stored = await storeCall(store, 'get', sid)
        assert.equal(stored.user, 'late')
        assert.deepEqual(stored.cart, { x: 1, y: 1 })
      }
    })

    it('a regenerated-away ID does not come back', async () => {
      for (let i = 0; i < REPEAT; i++) {
        const { cookie, sid } = await login()
        const { r2 } = await interleave(server, `regenerate-${i}`,
          { path: '/set?path=cart.a&value=1', options: withCookie(cookie) },
          { path: '/regenerate', options: withCookie(cookie) })
        const newSid = sidOf(cookiePair(r2))
        assert.notEqual(newSid, sid)
        assert.equal(await storeCall(store, 'get', sid) ?? undefined, undefined, 'the old ID stays gone')
        assert.equal((await storeCall(store, 'get', newSid)).user, 'regenerated')
      }
    })

    it('regenerate({ keep: true }) moves the data to a new ID, and the old one stays gone', async () => {
      for (let i = 0; i < REPEAT; i++) {
        const { cookie, sid } = await login()
        const { r2 } = await interleave(server, `rotate-${i}`,
          { path: '/set?path=cart.a&value=1', options: withCookie(cookie) },
          { path: '/rotate', options: withCookie(cookie) })
        const newCookie = cookiePair(r2)
        const newSid = sidOf(newCookie)
        assert.notEqual(newSid, sid)
        assert.equal(await storeCall(store, 'get', sid) ?? undefined, undefined, 'the old ID stays gone')
        const moved = await storeCall(store, 'get', newSid)
        assert.equal(moved.user, 'alice')
        assert.deepEqual(moved.cart, { x: 1, y: 1 })
        assert.deepEqual(JSON.parse((await send(server.url + '/', withCookie(newCookie))).body), { user: 'alice', cart: { x: 1, y: 1 } })
      }
    })

    it('regenerate({ keep: true }) twice in a request leaves only the newest ID', async () => {
      const before = await storeCall(store, 'length')
      const { cookie, sid } = await login()
      const rotated = await send(server.url + '/rotate-twice', withCookie(cookie))
      const newSid = sidOf(cookiePair(rotated))
      assert.equal(await storeCall(store, 'get', sid) ?? undefined, undefined)
      assert.equal((await storeCall(store, 'get', newSid)).user, 'alice')
      assert.equal(await storeCall(store, 'length'), before + 1, 'no ID in between was stored')
    })

    it('a rolling read or a resave does not bring back a destroyed session', async () => {
      for (const options of [{ rolling: true }, { resave: true }]) {
        const other = await heldServer(store, options)
        try {
          for (let i = 0; i < Math.ceil(REPEAT / 2); i++) {
            const cookie = cookiePair(await send(other.url + '/login'))
            const { r1 } = await interleave(other, `read-${i}`,
              { path: '/read', options: withCookie(cookie) },
              { path: '/logout', options: withCookie(cookie) })
            assert.equal(r1.status, 200)
            assert.equal(await storeCall(store, 'get', sidOf(cookie)) ?? undefined, undefined, JSON.stringify(options))
          }
        } finally {
          await other.close()
        }
      }
    })

    it('a burst of 100 writes to one session: every one lands, none fails', async () => {
      const { cookie, sid } = await login()
      const responses = await Promise.all(Array.from({ length: 100 }, (_, i) =>
        send(server.url + `/set?path=cart.k${i}&value=${i}`, withCookie(cookie))))
      assert.deepEqual(responses.map((r) => r.status), Array(100).fill(200))
      const stored = await storeCall(store, 'get', sid)
      assert.equal(Object.keys(stored.cart).length, 102, 'x, y and the 100')
    })

    it('randomized: many requests at once, each change landing as a model says', async () => {
      const { cookie, sid } = await login()
      // Phase 1, one request at a time: keys every request may then change.
      const initial = {}
      for (let k = 0; k < 40; k++) {
        const path = (k % 2 ? 'cart.' : 'top') + 'k' + k
        await send(server.url + `/set?path=${path}&value=init`, withCookie(cookie))
        initial[path] = 'init'
      }
      // Phase 2, many at once, each request deleting or rewriting initial keys
      // no other request touches, and adding keys of its own: whatever order
      // they commit in, all of it must land.
      const expected = { ...initial }
      const requests = []
      let next = 0
      const spare = Object.keys(initial).sort(() => Math.random() - 0.5)
      for (let r = 0; r < 30; r++) {
        const ops = []
        const own = (Math.random() < 0.5 ? 'cart.' : 'top') + `r${r}`
        ops.push(['/set', own, 'v' + r])
        expected[own] = 'v' + r
        if (next < spare.length) {
          const key = spare[next++]
          if (Math.random() < 0.5) {
            ops.push(['/delete', key])
            delete expected[key]
          } else {
            ops.push(['/set', key, 'w' + r])
            expected[key] = 'w' + r
          }
        }
        requests.push(ops)
      }
      // Each request is one HTTP request per op, all in flight together.
      await Promise.all(requests.flat().map(([route, path, value]) =>
        send(server.url + `${route}?path=${path}&delay=${Math.floor(Math.random() * 15)}` + (value ? `&value=${value}` : ''), withCookie(cookie))))
      const stored = await storeCall(store, 'get', sid)
      const actual = {}
      for (const [key, value] of Object.entries(stored)) {
        if (key.startsWith('top')) actual[key] = value
      }
      for (const [key, value] of Object.entries(stored.cart)) {
        if (key !== 'x' && key !== 'y') actual['cart.' + key] = value
      }
      assert.deepEqual(actual, expected)
      assert.equal(stored.user, 'alice')
    })
  })
}

scenarios('MemoryStore', () => new session.MemoryStore())
scenarios('RedisStore', () => new session.RedisStore({ prefix: `esrs-integrity:${process.pid}:` }), 'redis')

describe('on a Redis Cluster', needs('redis-server'), () => {
  let cluster
  before(async () => { cluster = await startCluster(3) })
  after(async () => { await cluster.stop() })
  scenarios('RedisStore, Cluster', () => new session.RedisStore({ cluster: cluster.urls, prefix: 'i:' }))
})

describe('express-session\'s behaviour where it is asked for', () => {
  // A store written against the callback API: its set cannot be conditional.
  class JsStore extends session.Store {
    constructor () {
      super()
      this.data = new Map()
    }

    get (sid, cb) { setImmediate(cb, null, this.data.has(sid) ? JSON.parse(this.data.get(sid)) : null) }
    set (sid, sess, cb) { this.data.set(sid, JSON.stringify(sess)); setImmediate(cb) }
    destroy (sid, cb) { this.data.delete(sid); setImmediate(cb) }
  }

  for (const [label, makeStore, options] of [
    ['a store written in JS', () => new JsStore(), {}],
    ['lastWriteWins: true', () => new session.MemoryStore(), { lastWriteWins: true }]
  ]) {
    it(`${label}: the later write puts a logged-out session back, whole`, async () => {
      const store = makeStore()
      const server = await heldServer(store, options)
      try {
        const cookie = cookiePair(await send(server.url + '/login'))
        await interleave(server, 'lww',
          { path: '/set?path=cart.a&value=1', options: withCookie(cookie) },
          { path: '/logout', options: withCookie(cookie) })
        const stored = await storeCall(store, 'get', sidOf(cookie))
        assert.deepEqual(stored.cart, { x: 1, y: 1, a: '1' })
      } finally {
        await server.close()
      }
    })
  }

  it('lastWriteWins: concurrent saves of one session to Redis go out together, not one round trip after another', needs('redis'), async () => {
    const DELAY = 150
    const relay = await latencyRelay(6379, DELAY)
    const store = new session.RedisStore({ url: `redis://127.0.0.1:${relay.port}`, prefix: `esrs-lww:${process.pid}:` })
    const server = await heldServer(store, { lastWriteWins: true })
    try {
      const cookie = cookiePair(await send(server.url + '/login'))
      const tags = Array.from({ length: 8 }, (_, i) => `burst-${i}`)
      const responses = tags.map((tag, i) =>
        send(server.url + `/set?path=cart.a&value=${i}&hold=${tag}`, withCookie(cookie)))
      // Every request has loaded the session; all save at once when released.
      await Promise.all(tags.map((tag) => server.gate(tag).reached))
      const released = Date.now()
      for (const tag of tags) server.gate(tag).release()
      for (const response of await Promise.all(responses)) assert.equal(response.status, 200)
      // One at a time they would take at least 8 round trips of DELAY ms.
      const elapsed = Date.now() - released
      assert.ok(elapsed < 4 * DELAY, `the saves took ${elapsed} ms with ${DELAY} ms to Redis`)
      const stored = await storeCall(store, 'get', sidOf(cookie))
      assert.ok(tags.some((_, i) => stored.cart.a === String(i)), `stored ${JSON.stringify(stored.cart)}`)
    } finally {
      await server.close()
      await store.close()
      relay.close()
    }
  })

  it('regenerate({ keep: true }) keeps the data with a store written in JS too', async () => {
    const store = new JsStore()
    const server = await heldServer(store)
    try {
      const cookie = cookiePair(await send(server.url + '/login'))
      const rotated = await send(server.url + '/rotate', withCookie(cookie))
      const newSid = sidOf(cookiePair(rotated))
      assert.equal(await storeCall(store, 'get', sidOf(cookie)), null)
      assert.equal((await storeCall(store, 'get', newSid)).user, 'alice')
    } finally {
      await server.close()
    }
  })

  it('regenerate({ keep: true }) with lastWriteWins destroys the old ID, as regenerate does', async () => {
    const store = new session.MemoryStore()
    const server = await heldServer(store, { lastWriteWins: true })
    try {
      const cookie = cookiePair(await send(server.url + '/login'))
      const rotated = await send(server.url + '/rotate', withCookie(cookie))
      assert.equal(await storeCall(store, 'get', sidOf(cookie)), undefined)
      assert.equal((await storeCall(store, 'get', sidOf(cookiePair(rotated)))).user, 'alice')
    } finally {
      await server.close()
    }
  })

  it('lastWriteWins must be a boolean', () => {
    assert.throws(() => session({ secret: 's', lastWriteWins: 'yes' }), TypeError)
  })
})
