'use strict'

// The native MemoryStore: express-session's API and callback contract, plus
// expiry without reads and a bounded size.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const session = require('..')
const { storeCall, listen, appWith, send, cookiePair } = require('./helpers')

function sessionData (expires, extra = {}) {
  return {
    cookie: { originalMaxAge: 1000, expires: expires && new Date(expires).toISOString(), httpOnly: true, path: '/' },
    ...extra
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

describe('MemoryStore', () => {
  it('is a Store', () => {
    const store = new session.MemoryStore()
    assert.ok(store instanceof session.Store)
    assert.equal(typeof store.on, 'function')
  })

  it('calls back on a later tick, as express-session\'s does', async () => {
    const store = new session.MemoryStore()
    for (const [method, args] of [['get', ['x']], ['set', ['x', sessionData(null)]], ['touch', ['x', sessionData(null)]], ['destroy', ['x']], ['length', []], ['all', []], ['clear', []]]) {
      let sync = true
      await new Promise((resolve) => {
        store[method](...args, () => {
          assert.equal(sync, false, `${method} called back synchronously`)
          resolve()
        })
        sync = false
      })
    }
  })

  it('returns stored sessions as plain data and nothing for unknown IDs', async () => {
    const store = new session.MemoryStore()
    await storeCall(store, 'set', 'a', sessionData(Date.now() + 60000, { user: { name: 'bob' } }))
    const sess = await storeCall(store, 'get', 'a')
    assert.deepEqual(sess.user, { name: 'bob' })
    assert.equal(typeof sess.cookie.expires, 'string')
    assert.equal(await storeCall(store, 'get', 'b'), undefined)
  })

  it('does not return, count or list expired sessions', async () => {
    const store = new session.MemoryStore()
    await storeCall(store, 'set', 'old', sessionData(Date.now() - 1))
    await storeCall(store, 'set', 'live', sessionData(Date.now() + 60000))
    await storeCall(store, 'set', 'forever', sessionData(null))
    assert.equal(await storeCall(store, 'get', 'old'), undefined)
    assert.equal(await storeCall(store, 'length'), 2)
    assert.deepEqual(Object.keys(await storeCall(store, 'all')).sort(), ['forever', 'live'])
  })

  it('removes expired sessions without being asked', async () => {
    const store = new session.MemoryStore({ sweepInterval: 20 })
    for (let i = 0; i < 100; i++) {
      await storeCall(store, 'set', 's' + i, sessionData(Date.now() + 30))
    }
    const sessions = store[session.MemoryStore.kNativeSessions]
    assert.equal(sessions.length(0), 100, 'all present before they expire')
    await sleep(150)
    // Counted with a clock of 0 so the count itself expires nothing: the sweep did.
    assert.equal(sessions.length(0), 0)
  })

  it('sweeps many expired sessions in one go in an idle process, not a batch per wake-up', () => {
    // A process of its own, so that no other timer wakes its event loop. Five
    // batches of the sweep are due at its first tick; they must not wait for
    // the next ones.
    const script = `
      const session = require(${JSON.stringify(require('node:path').join(__dirname, '..'))})
      const store = new session.MemoryStore({ sweepInterval: 1000 })
      const sessions = store[session.MemoryStore.kNativeSessions]
      const expires = new Date(Date.now() + 200).toISOString()
      for (let i = 0; i < 50000; i++) store.set('s' + i, { cookie: { originalMaxAge: 200, expires } })
      setTimeout(() => console.log(sessions.length(0)), 1500)
    `
    const run = require('node:child_process').spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 })
    assert.equal(run.stderr, '')
    assert.equal(run.stdout.trim(), '0', 'every expired session swept')
  })

  it('keeps at most `max` sessions, dropping the least recently written', async () => {
    const store = new session.MemoryStore({ max: 2 })
    await storeCall(store, 'set', 'a', sessionData(null))
    await storeCall(store, 'set', 'b', sessionData(null))
    await storeCall(store, 'set', 'a', sessionData(null, { n: 2 }))
    await storeCall(store, 'set', 'c', sessionData(null))
    assert.deepEqual(Object.keys(await storeCall(store, 'all')).sort(), ['a', 'c'])
    assert.throws(() => new session.MemoryStore({ max: 0 }), TypeError)
  })

  it('a read-only visit moves the stored expiry and keeps the stored text canonical', async () => {
    const store = new session.MemoryStore()
    let changePath = false
    let sentExpires
    const app = appWith(session({ secret: 's', store, resave: false, saveUninitialized: false, cookie: { maxAge: 60000 } }), (req, res) => {
      if (req.query.seed) req.session.n = 1
      if (changePath) req.session.cookie.path = '/app'
      res.on('finish', () => { sentExpires = req.session.cookie.expires.toISOString() })
      res.end(String(req.session.n))
    })
    const { url, close } = await listen(app)
    try {
      const seeded = await send(url + '/?seed=1')
      const cookie = cookiePair(seeded)
      const id = decodeURIComponent(cookie).split('s:')[1].split('.')[0]
      const stored = store[session.MemoryStore.kNativeSessions]
      const before = JSON.parse(stored.get(id, Date.now()))
      const touchExpires = stored.touchExpires
      let patched = 0
      stored.touchExpires = function (...args) {
        const done = touchExpires.apply(this, args)
        if (done) patched++
        return done
      }
      await sleep(20)
      // Only the expiry moved: patched in place, to exactly what a full write gives.
      assert.equal((await send(url, { headers: { cookie } })).body, '1')
      const text = stored.get(id, Date.now())
      const after = JSON.parse(text)
      assert.equal(patched, 1)
      assert.ok(new Date(after.cookie.expires) > new Date(before.cookie.expires))
      assert.equal(after.cookie.expires, sentExpires)
      const expected = new session.Cookie({ maxAge: 0 })
      Object.assign(expected, { originalMaxAge: after.cookie.originalMaxAge, httpOnly: true, path: '/' })
      expected.expires = new Date(after.cookie.expires)
      expected.originalMaxAge = after.cookie.originalMaxAge
      assert.equal(text, JSON.stringify({ cookie: expected, n: 1 }))
      // A changed cookie is stored whole.
      changePath = true
      await send(url, { headers: { cookie } })
      assert.equal(patched, 1)
      assert.equal(JSON.parse(stored.get(id, Date.now())).cookie.path, '/app')
    } finally {
      await close()
    }
  })

  it('touch updates the cookie and expiry and keeps the data', async () => {
    const store = new session.MemoryStore()
    await storeCall(store, 'set', 'a', sessionData(Date.now() + 10, { n: 1 }))
    const later = new Date(Date.now() + 60000).toISOString()
    await storeCall(store, 'touch', 'a', { cookie: { expires: later, path: '/' }, n: 999 })
    await sleep(30)
    const sess = await storeCall(store, 'get', 'a')
    assert.equal(sess.n, 1)
    assert.equal(sess.cookie.expires, later)
  })

  it('destroy and clear remove sessions', async () => {
    const store = new session.MemoryStore()
    await storeCall(store, 'set', 'a', sessionData(null))
    await storeCall(store, 'set', 'b', sessionData(null))
    await storeCall(store, 'destroy', 'a')
    assert.equal(await storeCall(store, 'length'), 1)
    await storeCall(store, 'clear')
    assert.equal(await storeCall(store, 'length'), 0)
  })

  it('expires a session with its cookie when used by the middleware', async () => {
    const store = new session.MemoryStore()
    const server = await listen(appWith(session({ secret: 's', resave: false, saveUninitialized: false, store, cookie: { maxAge: 50 } }), (req, res) => {
      req.session.n = (req.session.n || 0) + 1
      res.end(String(req.session.n))
    }))
    try {
      const first = await send(server.url)
      assert.equal((await send(server.url, { headers: { cookie: cookiePair(first) } })).body, '2')
      await sleep(80)
      assert.equal((await send(server.url, { headers: { cookie: cookiePair(first) } })).body, '1')
    } finally {
      await server.close()
    }
  })
})
