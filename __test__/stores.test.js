'use strict'

// Third-party and hand-written stores plugged into express-session-rs, over HTTP,
// against the real services that run on this machine (Redis, PostgreSQL).

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const util = require('node:util')
const express = require('express')
const session = require('..')
const { listen, appWith, send, cookiePair, storeCall } = require('./helpers')
const { needs } = require('./services')

function counterApp (store, extra = {}) {
  return appWith(session({ secret: 'keyboard cat', resave: false, saveUninitialized: false, store, cookie: { maxAge: 60000 }, ...extra }), (req, res) => {
    if (req.path === '/destroy') return req.session.destroy((err) => res.end(err ? 'error ' + err.message : 'destroyed'))
    if (req.path === '/regenerate') {
      return req.session.regenerate((err) => {
        if (err) return res.end('error ' + err.message)
        req.session.views = 100
        res.end('regenerated')
      })
    }
    if (req.path === '/read') return res.end(String(req.session.views))
    req.session.views = (req.session.views || 0) + 1
    res.end(String(req.session.views))
  })
}

// Create, read back, modify, regenerate (the old ID is gone), destroy.
async function roundTrip (store, read) {
  const server = await listen(counterApp(store))
  try {
    const first = await send(server.url + '/')
    assert.equal(first.body, '1')
    const cookie = cookiePair(first)
    assert.ok(cookie, 'the first response sets the session cookie')
    const sid = decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
    assert.equal((await read(sid)).views, 1)

    assert.equal((await send(server.url + '/read', { headers: { cookie } })).body, '1')
    assert.equal((await send(server.url + '/', { headers: { cookie } })).body, '2')
    assert.equal((await read(sid)).views, 2)

    const regenerated = await send(server.url + '/regenerate', { headers: { cookie } })
    assert.equal(regenerated.body, 'regenerated')
    const newCookie = cookiePair(regenerated)
    assert.ok(newCookie && newCookie !== cookie, 'regenerate sets a new cookie')
    assert.equal(await read(sid), null, 'the old session is gone from the store')
    assert.equal((await send(server.url + '/read', { headers: { cookie: newCookie } })).body, '100')

    assert.equal((await send(server.url + '/destroy', { headers: { cookie: newCookie } })).body, 'destroyed')
    assert.equal((await send(server.url + '/read', { headers: { cookie: newCookie } })).body, 'undefined')
  } finally {
    await server.close()
  }
}

describe('connect-redis with the redis client', needs('redis'), () => {
  const { RedisStore } = require('connect-redis')
  const { createClient } = require('redis')
  let client
  const prefix = `esrs-test:${process.pid}:`

  before(async () => {
    client = createClient({ url: 'redis://127.0.0.1:6379' })
    await client.connect()
  })

  after(async () => {
    for await (const keys of client.scanIterator({ MATCH: prefix + '*' })) {
      if (keys.length) await client.del(keys)
    }
    await client.quit()
  })

  it('stores, reads, updates, regenerates and destroys sessions', async () => {
    const store = new RedisStore({ client, prefix })
    await roundTrip(store, async (sid) => {
      const text = await client.get(prefix + sid)
      return text && JSON.parse(text)
    })
  })

  it('gets an EXPIRE from the cookie on touch', async () => {
    const store = new RedisStore({ client, prefix })
    const server = await listen(counterApp(store, { cookie: { maxAge: 100000 } }))
    try {
      const first = await send(server.url + '/')
      const cookie = cookiePair(first)
      const sid = decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
      await client.expire(prefix + sid, 10)
      await send(server.url + '/read', { headers: { cookie } })
      const ttl = await client.ttl(prefix + sid)
      assert.ok(ttl > 90 && ttl <= 100, `ttl after touch: ${ttl}`)
    } finally {
      await server.close()
    }
  })
})

describe('session-file-store', () => {
  it('stores, reads, updates, regenerates and destroys sessions', async () => {
    const FileStore = require('session-file-store')(session)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esrs-files-'))
    try {
      const store = new FileStore({ path: dir, logFn: () => {}, retries: 0, reapInterval: -1 })
      await roundTrip(store, async (sid) => {
        const file = path.join(dir, sid + '.json')
        return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null
      })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('connect-pg-simple on PostgreSQL', needs('postgres'), () => {
  const { Pool } = require('pg')
  const pgSession = require('connect-pg-simple')(session)
  const tableName = `esrs_sessions_${process.pid}`
  let pool

  before(async () => {
    pool = new Pool({ host: '127.0.0.1', user: 'postgres', database: 'test' })
  })

  after(async () => {
    await pool.query(`DROP TABLE IF EXISTS ${tableName}`)
    await pool.end()
  })

  it('stores, reads, updates, regenerates and destroys sessions', async () => {
    const store = new pgSession({ pool, tableName, createTableIfMissing: true, pruneSessionInterval: false }) // eslint-disable-line new-cap
    await roundTrip(store, async (sid) => {
      const { rows } = await pool.query(`SELECT sess FROM ${tableName} WHERE sid = $1`, [sid])
      return rows.length ? rows[0].sess : null
    })
  })
})

// A store in the old style, as many published stores are written.
function InheritedStore () {
  session.Store.call(this)
  this.sessions = Object.create(null)
}
util.inherits(InheritedStore, session.Store)
InheritedStore.prototype.get = function (sid, cb) {
  const text = this.sessions[sid]
  setImmediate(cb, null, text ? JSON.parse(text) : null)
}
InheritedStore.prototype.set = function (sid, sess, cb) {
  this.sessions[sid] = JSON.stringify(sess)
  setImmediate(cb)
}
InheritedStore.prototype.destroy = function (sid, cb) {
  delete this.sessions[sid]
  setImmediate(cb)
}

class ClassStore extends session.Store {
  constructor () {
    super()
    this.sessions = new Map()
  }

  get (sid, cb) { cb(null, this.sessions.has(sid) ? JSON.parse(this.sessions.get(sid)) : null) }
  set (sid, sess, cb) { this.sessions.set(sid, JSON.stringify(sess)); cb() }
  destroy (sid, cb) { this.sessions.delete(sid); cb() }
}

describe('hand-written stores', () => {
  it('work when written with util.inherits', async () => {
    const store = new InheritedStore()
    assert.ok(store instanceof session.Store)
    await roundTrip(store, async (sid) => (store.sessions[sid] ? JSON.parse(store.sessions[sid]) : null))
  })

  it('work when written as classes that call back synchronously', async () => {
    const store = new ClassStore()
    await roundTrip(store, async (sid) => (store.sessions.has(sid) ? JSON.parse(store.sessions.get(sid)) : null))
  })

  it('load() gives a Session with a Cookie', async () => {
    const store = new ClassStore()
    store.sessions.set('abc', JSON.stringify({ cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' }, n: 1 }))
    const loaded = await storeCall(store, 'load', 'abc')
    assert.ok(loaded instanceof session.Session)
    assert.ok(loaded.cookie instanceof session.Cookie)
    assert.equal(loaded.id, 'abc')
    assert.equal(loaded.n, 1)
    assert.equal(await storeCall(store, 'load', 'missing'), undefined)
  })
})

describe('stores that misbehave', () => {
  async function firstAndReturning (store) {
    const server = await listen(counterApp(store))
    try {
      const first = await send(server.url + '/')
      const again = await send(server.url + '/', { headers: { cookie: cookiePair(first) } })
      return { first, again }
    } finally {
      await server.close()
    }
  }

  it('passes a get error to next(err)', async () => {
    const store = new ClassStore()
    store.get = (sid, cb) => cb(new Error('store is down'))
    const { again } = await firstAndReturning(store)
    assert.equal(again.status, 500)
    assert.equal(again.body, 'error: store is down')
  })

  it('treats ENOENT as a missing session', async () => {
    const store = new ClassStore()
    store.get = (sid, cb) => cb(Object.assign(new Error('no file'), { code: 'ENOENT' }))
    const { again } = await firstAndReturning(store)
    assert.equal(again.status, 200)
    assert.equal(again.body, '1')
  })

  it('runs the app once when get calls back twice', async () => {
    const store = new ClassStore()
    const get = store.get.bind(store)
    store.get = (sid, cb) => { get(sid, cb); get(sid, cb) }
    let calls = 0
    const server = await listen(appWith(session({ secret: 's', resave: false, saveUninitialized: true, store }), (req, res) => {
      calls++
      res.end('ok')
    }))
    try {
      const first = await send(server.url + '/')
      calls = 0
      const again = await send(server.url + '/', { headers: { cookie: cookiePair(first) } })
      assert.equal(again.body, 'ok')
      await new Promise((resolve) => setTimeout(resolve, 20))
      assert.equal(calls, 1)
    } finally {
      await server.close()
    }
  })

  it('passes a set error to the error handler after the response', async () => {
    const store = new ClassStore()
    store.set = (sid, sess, cb) => cb(new Error('disk full'))
    const errors = []
    const app = express()
    app.use(session({ secret: 's', resave: false, saveUninitialized: true, store }))
    app.use((req, res) => res.end('body'))
    app.use((err, req, res, next) => { errors.push(err.message) })
    const server = await listen(app)
    try {
      const response = await send(server.url + '/')
      assert.equal(response.body, 'body')
      await new Promise((resolve) => setTimeout(resolve, 20))
      assert.deepEqual(errors, ['disk full'])
    } finally {
      await server.close()
    }
  })

  it('serves without a session while the store is disconnected', async () => {
    const store = new ClassStore()
    const server = await listen(appWith(session({ secret: 's', resave: false, saveUninitialized: true, store }), (req, res) => {
      res.end(req.session ? 'with session' : 'without session')
    }))
    try {
      store.emit('disconnect')
      const down = await send(server.url + '/')
      assert.equal(down.body, 'without session')
      assert.equal(down.setCookie.length, 0)
      store.emit('connect')
      assert.equal((await send(server.url + '/')).body, 'with session')
    } finally {
      await server.close()
    }
  })
})
