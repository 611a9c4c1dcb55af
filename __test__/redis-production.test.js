'use strict'

// The RedisStore as production runs it: TLS (certificates made here with
// openssl), ACL users, Sentinel with a forced failover, configuration errors
// caught when the store is made, and waits that stay bounded however many
// requests arrive while Redis hangs, refuses or stops answering. Every server
// is a real redis-server this file starts on a free loopback port.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const net = require('node:net')
const express = require('express')
const session = require('..')
const { listen, appWith, send, cookiePair } = require('./helpers')
const { needs } = require('./services')
const {
  freePort, startRedis, stopRedis, startCluster, sleep, makeCertificates, startTlsRedis, startSentinelGroup, cli
} = require('./redis-servers')

const SECRET = 'production secret'

// An app counting views per session; /read answers the count without writing.
// An error after the response went out (a failed save) is only recorded:
// Express's own handler would reset the kept-alive connection.
function counterApp (store, options = {}) {
  const app = express()
  app.use(session({ secret: SECRET, resave: false, saveUninitialized: false, store, ...options }))
  app.use((req, res) => {
    if (!req.session) return res.end('no session')
    if (req.path === '/read') return res.end(String(req.session.views))
    req.session.views = (req.session.views || 0) + 1
    res.end(String(req.session.views))
  })
  app.use((err, req, res, next) => {
    if (res.headersSent) return
    res.status(500).send('error: ' + err.message)
  })
  return app
}

// A signed cookie for `sid`, as the middleware would have set it.
function cookieFor (sid) {
  const mac = crypto.createHmac('sha256', SECRET).update(sid).digest('base64').replace(/=+$/, '')
  return 'connect.sid=' + encodeURIComponent('s:' + sid + '.' + mac)
}

async function roundTrip (store) {
  const server = await listen(counterApp(store))
  try {
    const first = await send(server.url)
    assert.equal(first.body, '1', first.body)
    const cookie = cookiePair(first)
    assert.equal((await send(server.url, { headers: { cookie } })).body, '2')
    assert.equal((await send(server.url + '/read', { headers: { cookie } })).body, '2')
  } finally {
    await server.close()
  }
}

async function rejection (promise) {
  try {
    await promise
  } catch (err) {
    return err
  }
  assert.fail('expected the store to fail')
}

describe('RedisStore over TLS', needs('redis-server'), () => {
  let certs
  let redis
  before(async () => {
    certs = makeCertificates()
    redis = await startTlsRedis(certs)
  })
  after(async () => {
    await redis.stop()
    certs.remove()
  })

  it('keeps sessions over rediss:// with the CA given as text or as a Buffer', async () => {
    for (const ca of [certs.read('ca.crt'), Buffer.from(certs.read('ca.crt'))]) {
      const store = new session.RedisStore({ url: `rediss://127.0.0.1:${redis.port}`, tls: { ca }, prefix: 'tls:' })
      try {
        await roundTrip(store)
      } finally {
        await store.close()
      }
    }
  })

  it('refuses a server whose certificate another CA signed, within the connect timeout, and sets no cookie', async () => {
    const store = new session.RedisStore({
      url: `rediss://127.0.0.1:${redis.port}`,
      tls: { ca: certs.read('other.crt') },
      connectTimeout: 1000,
      commandTimeout: 500
    })
    try {
      const started = Date.now()
      const err = await rejection(store.get('anything'))
      assert.match(err.message, /certificate|UnknownIssuer/i)
      assert.ok(Date.now() - started < 1500)

      const server = await listen(appWith(session({ secret: SECRET, resave: false, saveUninitialized: true, store }), (req, res) => res.end('hello')))
      try {
        const response = await send(server.url)
        assert.deepEqual(response.setCookie, [], 'no cookie for a session that was not saved')
      } finally {
        await server.close()
      }
    } finally {
      await store.close()
    }
  })

  it('trusts Mozilla\'s roots, not a private CA, when no ca is given', async () => {
    const store = new session.RedisStore({ url: `rediss://127.0.0.1:${redis.port}`, connectTimeout: 1000 })
    try {
      assert.match((await rejection(store.get('x'))).message, /UnknownIssuer|certificate/i)
    } finally {
      await store.close()
    }
  })

  it('takes any certificate with rejectUnauthorized: false, as Node does', async () => {
    const store = new session.RedisStore({ url: `rediss://127.0.0.1:${redis.port}`, tls: { rejectUnauthorized: false }, prefix: 'tls-any:' })
    try {
      await roundTrip(store)
    } finally {
      await store.close()
    }
  })

  it('checks the certificate against servername when it is given', async () => {
    const named = await startTlsRedis(certs, { cert: 'named' })
    const url = `rediss://127.0.0.1:${named.port}`
    const ca = certs.read('ca.crt')
    const right = new session.RedisStore({ url, tls: { ca, servername: 'redis.test' }, prefix: 'tls-named:' })
    const wrong = new session.RedisStore({ url, tls: { ca }, connectTimeout: 1000 })
    try {
      await roundTrip(right)
      assert.match((await rejection(wrong.get('x'))).message, /NotValidForName|certificate/i)
    } finally {
      await right.close()
      await wrong.close()
      await named.stop()
    }
  })

  it('keeps sessions on a Cluster over TLS', async () => {
    const cluster = await startCluster(3, { certs })
    const store = new session.RedisStore({ cluster: cluster.urls, tls: { ca: certs.read('ca.crt') }, prefix: 'tls-cluster:' })
    try {
      await roundTrip(store)
      for (const id of ['a', 'b', 'c', 'd', 'e']) await store.set(id, { cookie: {}, id })
      assert.deepEqual((await store.ids()).filter((id) => id.length === 1).sort(), ['a', 'b', 'c', 'd', 'e'])
    } finally {
      await store.close()
      await cluster.stop()
    }
  })

  it('presents a client certificate to a server that asks for one', async () => {
    const strict = await startTlsRedis(certs, { authClients: 'yes' })
    const url = `rediss://127.0.0.1:${strict.port}`
    const ca = certs.read('ca.crt')
    const withCert = new session.RedisStore({ url, tls: { ca, cert: certs.read('client.crt'), key: certs.read('client.key') }, prefix: 'mtls:' })
    const without = new session.RedisStore({ url, tls: { ca }, connectTimeout: 1000, commandTimeout: 1000 })
    try {
      await roundTrip(withCert)
      await rejection(without.get('x'))
    } finally {
      await withCert.close()
      await without.close()
      await strict.stop()
    }
  })
})

describe('RedisStore with an ACL user', needs('redis-server'), () => {
  let port
  let redis
  let dir
  before(async () => {
    port = await freePort()
    dir = require('node:fs').mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'esrs-acl-'))
    redis = await startRedis(port, dir)
    // A user that may touch only keys under the store's prefix, as the README suggests.
    cli(port, 'acl', 'setuser', 'sessions', 'on', '>s3cret', '~acl:*', '+@all', '-@dangerous')
  })
  after(async () => {
    await stopRedis(redis)
    require('node:fs').rmSync(dir, { recursive: true, force: true })
  })

  it('connects as the user given by options or in the URL, limited to its keys', async () => {
    const stores = [
      new session.RedisStore({ url: `redis://127.0.0.1:${port}`, username: 'sessions', password: 's3cret', prefix: 'acl:' }),
      new session.RedisStore({ url: `redis://sessions:s3cret@127.0.0.1:${port}`, prefix: 'acl:' })
    ]
    try {
      for (const store of stores) await roundTrip(store)
      assert.ok(Number(cli(port, 'dbsize')) >= 2)
      // The same user under a prefix its ACL does not allow: refused, not written.
      const outside = new session.RedisStore({ url: `redis://127.0.0.1:${port}`, username: 'sessions', password: 's3cret', prefix: 'other:' })
      try {
        assert.match((await rejection(outside.set('x', { cookie: {} }))).message, /NOPERM|permission/i)
        assert.equal(cli(port, 'exists', 'other:x'), '0')
      } finally {
        await outside.close()
      }
    } finally {
      for (const store of stores) await store.close()
    }
  })

  it('fails clearly with a wrong password, and writes nothing as the default user', async () => {
    const before = cli(port, 'dbsize')
    const store = new session.RedisStore({ url: `redis://127.0.0.1:${port}`, username: 'sessions', password: 'wrong', prefix: 'acl:', connectTimeout: 1000 })
    try {
      const err = await rejection(store.set('y', { cookie: {} }))
      assert.match(err.message, /WRONGPASS|password|auth/i)
      assert.equal(cli(port, 'dbsize'), before)
    } finally {
      await store.close()
    }
  })
})

describe('RedisStore options are checked when the store is made', () => {
  const refused = [
    [{ url: 'not a url' }, /not a Redis URL/],
    [{ url: 'http://127.0.0.1:6379' }, /not a Redis URL/],
    [{ url: 42 }, /url option must be a string/],
    [{ url: 'redis://127.0.0.1', cluster: ['redis://127.0.0.1:7000'] }, /one of url, cluster and sentinel/],
    [{ url: 'redis://127.0.0.1', sentinel: { nodes: ['redis://127.0.0.1:26379'], name: 'm' } }, /one of url, cluster and sentinel/],
    [{ cluster: [] }, /cluster option/],
    [{ sentinel: { nodes: [], name: 'm' } }, /sentinel.nodes/],
    [{ sentinel: { nodes: ['redis://127.0.0.1:26379'] } }, /sentinel.name/],
    [{ sentinel: { nodes: ['nonsense'], name: 'm' } }, /not a Redis URL/],
    [{ connectTimeout: 0 }, /connectTimeout option must be a positive integer/],
    [{ commandTimeout: -5 }, /commandTimeout option must be a positive integer/],
    [{ commandTimeout: '2000' }, /commandTimeout option must be a positive integer/],
    [{ connectTimeout: NaN }, /connectTimeout/],
    [{ tls: { ca: 'not a certificate' } }, /tls.ca holds no PEM certificate/],
    [{ tls: { ca: 42 } }, /tls.ca must be PEM text/],
    [{ tls: { cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } }, /tls.cert and tls.key must be given together/],
    [{ tls: { ciphers: 'HIGH' } }, /tls.ciphers is not supported/],
    [{ url: 'unix:///tmp/redis.sock', tls: {} }, /Unix socket/],
    [{ prefx: 'sess:' }, /has no option prefx/],
    [{ client: {} }, /client does not apply.*url, cluster or sentinel/],
    [{ serializer: JSON }, /serializer does not apply/],
    [{ host: 'localhost' }, /host does not apply.*url/],
    [{ username: 5 }, /username option must be a string/]
  ]
  for (const [options, message] of refused) {
    it('refuses ' + JSON.stringify(options, (key, value) => value === JSON ? 'JSON' : (Number.isNaN(value) ? 'NaN' : value)), () => {
      assert.throws(() => new session.RedisStore(options), (err) => err instanceof TypeError && message.test(err.message))
    })
  }

  it('takes rediss://, unix:// and a database in the URL', async () => {
    for (const url of ['rediss://cache.example:6380/2', 'unix:///tmp/esrs-none.sock', 'redis://127.0.0.1:6379/3']) {
      const store = new session.RedisStore({ url })
      await store.close()
    }
  })
})

describe('RedisStore waits stay bounded under concurrency', needs('redis-server'), () => {
  const connectTimeout = 300
  const commandTimeout = 300
  // The bound each request is held to: both timeouts, plus scheduling.
  const bound = connectTimeout + commandTimeout + 700

  // `count` requests 30 ms apart, all in flight together: returning visitors
  // (a cookie for a session the store may hold) and new ones.
  async function burst (url, count = 10) {
    const runs = []
    for (let i = 0; i < count; i++) {
      const started = Date.now()
      const headers = i % 2 ? { cookie: cookieFor('sid-' + i) } : {}
      runs.push(send(url, { headers }).then((response) => ({ response, ms: Date.now() - started })))
      await sleep(30)
    }
    return Promise.all(runs)
  }

  function assertBounded (results, what) {
    for (const { response, ms } of results) {
      assert.ok(ms < bound, `${what}: answered after ${ms} ms (bound ${bound} ms)`)
      // A session that could not be saved is not named by a cookie.
      if (response.status !== 200 || !/^\d+$/.test(response.body)) {
        assert.deepEqual(response.setCookie, [], `${what}: ${response.status} ${response.body}`)
      }
    }
  }

  async function withApp (storeOptions, run) {
    const store = new session.RedisStore({ connectTimeout, commandTimeout, probeInterval: 100, ...storeOptions })
    const server = await listen(counterApp(store, { saveUninitialized: true }))
    try {
      await run(server, store)
    } finally {
      await server.close()
      await store.close()
    }
  }

  it('against a server that accepts connections and never answers', async () => {
    const sockets = new Set()
    const silent = net.createServer((socket) => { sockets.add(socket) }).listen(0, '127.0.0.1')
    await new Promise((resolve) => silent.once('listening', resolve))
    try {
      await withApp({ url: `redis://127.0.0.1:${silent.address().port}` }, async (server, store) => {
        for (let round = 0; round < 3; round++) assertBounded(await burst(server.url, 12), 'silent server, round ' + round)
        // A wait that ran out carries the code every store timeout has.
        const err = await rejection(store.get('x'))
        assert.equal(err.code, 'ERR_SESSION_STORE_TIMEOUT', err.message)
      })
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
  })

  it('against a port that refuses connections', async () => {
    const port = await freePort()
    await withApp({ url: `redis://127.0.0.1:${port}` }, async (server) => {
      for (let round = 0; round < 3; round++) assertBounded(await burst(server.url, 12), 'refused port, round ' + round)
    })
  })

  it('against a server that stops answering on open connections, and after it is back', async () => {
    const port = await freePort()
    const dir = require('node:fs').mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'esrs-stopped-'))
    const redis = await startRedis(port, dir)
    try {
      await withApp({ url: `redis://127.0.0.1:${port}`, prefix: 'bounded:' }, async (server, store) => {
        const first = await send(server.url)
        const cookie = cookiePair(first)
        assert.equal(first.body, '1')
        redis.kill('SIGSTOP')
        try {
          for (let round = 0; round < 2; round++) assertBounded(await burst(server.url, 12), 'stopped server, round ' + round)
        } finally {
          redis.kill('SIGCONT')
        }
        // Back: the store reconnects and the session is there.
        let body
        for (let i = 0; i < 40; i++) {
          body = (await send(server.url + '/read', { headers: { cookie } })).body
          if (body === '1') break
          await sleep(100)
        }
        assert.equal(body, '1')
      })
    } finally {
      await stopRedis(redis)
      require('node:fs').rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('RedisStore under Sentinel', needs('redis-server'), () => {
  it('finds the master, follows a forced failover, and answers every request within the timeouts', async () => {
    const group = await startSentinelGroup('sessions')
    const connectTimeout = 1000
    const commandTimeout = 1000
    const store = new session.RedisStore({ sentinel: { nodes: [group.url], name: 'sessions' }, prefix: 'sentinel:', connectTimeout, commandTimeout })
    const server = await listen(counterApp(store))
    try {
      const before = []
      for (let i = 0; i < 10; i++) before.push(cookiePair(await send(server.url)))
      assert.equal(cli(group.master, 'dbsize'), '10', 'written to the master the Sentinel named')
      // Replicated before the failover starts.
      cli(group.master, 'wait', '1', '2000')

      // Requests keep coming during the failover, each timed.
      const traffic = { running: true }
      const timings = []
      const requests = (async () => {
        while (traffic.running) {
          // Reads of the sessions saved before, and new visitors whose sessions are saved.
          const started = Date.now()
          const reading = timings.length % 2 === 0
          const response = reading
            ? await send(server.url + '/read', { headers: { cookie: before[timings.length % before.length] } })
            : await send(server.url)
          timings.push({ ms: Date.now() - started, status: response.status })
          await sleep(20)
        }
      })()
      await group.failover()
      await sleep(1500)
      traffic.running = false
      await requests

      for (const { ms } of timings) assert.ok(ms < connectTimeout + commandTimeout + 700, `answered after ${ms} ms`)
      assert.ok(timings.length > 20)

      for (const cookie of before) {
        assert.equal((await send(server.url + '/read', { headers: { cookie } })).body, '1', 'saved before the failover, readable after')
      }
      const created = await send(server.url)
      assert.equal(created.body, '1')
      const sid = decodeURIComponent(cookiePair(created).split('=')[1]).slice(2).split('.')[0]
      assert.equal(group.masterNow(), group.replica)
      assert.equal(cli(group.replica, 'exists', 'sentinel:' + sid), '1', 'saved on the new master')
    } finally {
      await server.close()
      await store.close()
      await group.stop()
    }
  })

  it('says which Sentinels it asked when none names the master', async () => {
    const port = await freePort()
    const store = new session.RedisStore({ sentinel: { nodes: [`redis://127.0.0.1:${port}`], name: 'nobody' }, connectTimeout: 500 })
    try {
      const err = await rejection(store.get('x'))
      assert.match(err.message, /Sentinel/)
      assert.match(err.message, new RegExp(String(port)))
    } finally {
      await store.close()
    }
  })
})
