'use strict'

// The response hooks live once on Express's shared response prototype (see
// lib/middleware/response-hooks.js). What apps do around them must keep
// working, on Express 4 and 5: middlewares that wrap res.end and res.writeHead
// per response (compression, on-headers) before or after the session, two
// session middlewares in one app, mounted sub-apps, plain http servers, and
// responses of requests the session middleware did not handle.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const zlib = require('node:zlib')
const compression = require('compression')
const onHeaders = require('on-headers')
const session = require('..')
const { listen, send, cookiePair, EXPRESS_VERSIONS } = require('./helpers')

const big = 'x'.repeat(4096)

// A counter that answers with a body big enough for compression to act on.
function counter (req, res) {
  req.session.n = (req.session.n || 0) + 1
  res.setHeader('Content-Type', 'text/plain')
  res.end(req.session.n + ':' + big)
}

function gunzipped (response) {
  return zlib.gunzipSync(Buffer.from(response.body, 'latin1')).toString()
}

// GET with gzip accepted; the body comes back as latin1 so it can be gunzipped.
function sendGzip (url, cookie) {
  return new Promise((resolve, reject) => {
    const headers = { 'accept-encoding': 'gzip' }
    if (cookie) headers.cookie = cookie
    http.get(url, { headers }, (res) => {
      let body = ''
      res.setEncoding('latin1')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body, setCookie: res.headers['set-cookie'] || [] }))
    }).on('error', reject)
  })
}

const options = () => ({ secret: 's', resave: false, saveUninitialized: false })

for (const [label, express] of EXPRESS_VERSIONS) {
  describe('response hooks on ' + label, () => {
    for (const order of ['before', 'after']) {
      it(`keeps sessions with compression installed ${order} the session`, async () => {
        const app = express()
        if (order === 'before') app.use(compression({ threshold: 0 }))
        app.use(session(options()))
        if (order === 'after') app.use(compression({ threshold: 0 }))
        app.use(counter)
        const server = await listen(app)
        try {
          const first = await sendGzip(server.url)
          assert.equal(first.headers['content-encoding'], 'gzip')
          assert.equal(gunzipped(first), '1:' + big)
          const cookie = first.setCookie[0].split(';')[0]
          const second = await sendGzip(server.url, cookie)
          assert.equal(gunzipped(second), '2:' + big)
        } finally {
          await server.close()
        }
      })
    }

    it('runs on-headers listeners registered before and after the session, each once', async () => {
      const app = express()
      const calls = []
      app.use((req, res, next) => {
        onHeaders(res, function () { calls.push('before'); this.setHeader('X-Before', '1') })
        next()
      })
      app.use(session(options()))
      app.use((req, res, next) => {
        onHeaders(res, function () { calls.push('after'); this.setHeader('X-After', '1') })
        next()
      })
      app.use(counter)
      const server = await listen(app)
      try {
        const response = await send(server.url)
        assert.equal(response.headers['x-before'], '1')
        assert.equal(response.headers['x-after'], '1')
        assert.equal(response.setCookie.length, 1)
        // The last registered runs first, as with on-headers alone.
        assert.deepEqual(calls, ['after', 'before'])
      } finally {
        await server.close()
      }
    })

    it('sets headers given to writeHead before the Set-Cookie goes out, and the status', async () => {
      const app = express()
      app.use(session(options()))
      app.use((req, res) => {
        req.session.n = 1
        res.writeHead(201, 'Made', { 'X-Given': 'yes', 'Content-Type': 'text/plain' })
        res.end('made')
      })
      const server = await listen(app)
      try {
        const response = await send(server.url)
        assert.equal(response.status, 201)
        assert.equal(response.headers['x-given'], 'yes')
        assert.equal(response.setCookie.length, 1)
        assert.equal(response.body, 'made')
      } finally {
        await server.close()
      }
    })

    it('keeps two session middlewares apart, each on its own path', async () => {
      const app = express()
      app.use('/a', session({ ...options(), name: 'a.sid' }))
      app.use('/b', session({ ...options(), name: 'b.sid' }))
      app.get('/c', (req, res) => res.end('plain'))
      app.use(counter)
      const server = await listen(app)
      try {
        const a = await send(server.url + '/a')
        const b = await send(server.url + '/b')
        assert.match(a.setCookie[0], /^a\.sid=/)
        assert.match(b.setCookie[0], /^b\.sid=/)
        assert.equal((await send(server.url + '/a', { headers: { cookie: cookiePair(a) } })).body, '2:' + big)
        assert.equal((await send(server.url + '/b', { headers: { cookie: cookiePair(b) } })).body, '2:' + big)
        // A plain response of the same app, not handled by either: untouched.
        const none = await send(server.url + '/c')
        assert.equal(none.body, 'plain')
        assert.deepEqual(none.setCookie, [])
      } finally {
        await server.close()
      }
    })

    it('commits what a mounted sub-app wrote', async () => {
      const app = express()
      const sub = express()
      sub.use(counter)
      app.use(session(options()))
      app.use('/sub', sub)
      const server = await listen(app)
      try {
        const first = await send(server.url + '/sub/x')
        assert.equal(first.body, '1:' + big)
        const second = await send(server.url + '/sub/x', { headers: { cookie: cookiePair(first) } })
        assert.equal(second.body, '2:' + big)
      } finally {
        await server.close()
      }
    })

    it('commits when a sub-app runs the session and its parent ends the response', async () => {
      // Express re-prototypes the response to the parent's when the sub-app
      // hands the request back: the hooks must not live on the sub-app's alone.
      const app = express()
      const sub = express()
      sub.use(session(options()))
      sub.use((req, res, next) => {
        req.session.n = (req.session.n || 0) + 1
        next()
      })
      app.use(sub)
      app.use((req, res) => res.end(String(req.session.n)))
      const server = await listen(app)
      try {
        const first = await send(server.url)
        assert.equal(first.body, '1')
        assert.equal((await send(server.url, { headers: { cookie: cookiePair(first) } })).body, '2')
      } finally {
        await server.close()
      }
    })

    it('adds no own property to an Express response, and forgets it once ended', async () => {
      // Each property added to a re-prototyped response costs V8 a new shape.
      const app = express()
      const before = new WeakMap()
      let ended
      app.use((req, res, next) => {
        before.set(res, Reflect.ownKeys(res))
        next()
      })
      app.use(session(options()))
      app.use((req, res) => {
        req.session.n = 1
        const added = Reflect.ownKeys(res).filter((key) => !before.get(res).includes(key)).map(String)
        res.end(JSON.stringify(added))
        ended = res
      })
      const server = await listen(app)
      try {
        const response = await send(server.url)
        assert.equal(response.setCookie.length, 1)
        assert.deepEqual(JSON.parse(response.body), [])
        // Ended: a second end is Node's own (the session's hook holds nothing for it).
        assert.equal(ended.end(), ended)
      } finally {
        await server.close()
      }
    })

    it('answers a second end with false while the save is in flight', async () => {
      const store = new session.MemoryStore()
      const set = store.set
      let release
      store.set = function (sid, sess, cb) {
        release = () => set.call(this, sid, sess, cb)
      }
      const app = express()
      app.use(session({ ...options(), store }))
      app.use((req, res) => {
        req.session.n = 1
        res.setHeader('Content-Length', '2')
        res.end('ok')
        seconds.push(res.end('again'))
        setImmediate(release)
      })
      const seconds = []
      const server = await listen(app)
      try {
        const response = await send(server.url)
        assert.equal(response.body, 'ok')
        assert.deepEqual(seconds, [false])
      } finally {
        await server.close()
      }
    })

    it('leaves responses outside the cookie path alone', async () => {
      const app = express()
      app.use(session({ ...options(), cookie: { path: '/admin' } }))
      app.use((req, res) => {
        res.end(req.session ? 'session' : 'none')
      })
      const server = await listen(app)
      try {
        assert.equal((await send(server.url + '/public')).body, 'none')
        const admin = await send(server.url + '/admin')
        assert.equal(admin.body, 'session')
      } finally {
        await server.close()
      }
    })
  })
}

describe('response hooks on a plain http server', () => {
  it('wraps each response, as express-session does', async () => {
    const middleware = session(options())
    const server = http.createServer((req, res) => {
      middleware(req, res, () => counter(req, res))
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${server.address().port}`
    try {
      const first = await send(url)
      assert.equal(first.body, '1:' + big)
      assert.equal((await send(url, { headers: { cookie: cookiePair(first) } })).body, '2:' + big)
      // Node's own prototypes are never changed (the Express tests above ran first).
      for (const method of ['writeHead', 'write', 'end']) {
        assert.equal(http.ServerResponse.prototype[method].toString().includes('states.get'), false, method)
      }
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
