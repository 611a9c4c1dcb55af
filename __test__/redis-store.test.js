'use strict'

// The native RedisStore against a real Redis: connect-redis interop both ways,
// its own API, the middleware over HTTP, and Redis going away and coming back.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { createClient } = require('redis')
const express = require('express')
const { RedisStore: ConnectRedisStore } = require('connect-redis')
const expressSession = require('express-session')
const session = require('..')
const { listen, appWith, send, cookiePair } = require('./helpers')
const { needs } = require('./services')
const { freePort, startRedis, stopRedis, startCluster } = require('./redis-servers')

const sidOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function counter (impl, store) {
  return appWith(impl({ secret: 'shared secret', resave: false, saveUninitialized: false, store, cookie: { maxAge: 3600000 } }), (req, res) => {
    if (req.path === '/read') return res.end(String(req.session.views))
    req.session.views = (req.session.views || 0) + 1
    req.session.profile = { name: 'bob', tags: ['a', 'b'], score: 1.5 }
    res.end(String(req.session.views))
  })
}

// Runs `script` in a child Node.js: its exit code ('still running' when it had to
// be killed after `ms`) and what it printed.
async function runScript (script, ms) {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.on('data', (chunk) => { output += chunk })
  const code = await Promise.race([
    new Promise((resolve) => child.on('exit', resolve)),
    sleep(ms).then(() => { child.kill('SIGKILL'); return 'still running' })
  ])
  return { code, output }
}

describe('RedisStore with connect-redis data', needs('redis'), () => {
  let client
  const prefix = `esrs-redis:${process.pid}:`

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

  it('reads and updates sessions that express-session + connect-redis wrote, and they read ours', async () => {
    const theirStore = new ConnectRedisStore({ client, prefix })
    const ourStore = new session.RedisStore({ prefix })
    const theirs = await listen(counter(expressSession, theirStore))
    const ours = await listen(counter(session, ourStore))
    try {
      const cookie = cookiePair(await send(theirs.url))
      const key = prefix + sidOf(cookie)
      const writtenByThem = await client.get(key)
      const theirTtl = await client.ttl(key)

      // Same cookie, other implementation: same session, and it can write it.
      assert.equal((await send(ours.url + '/read', { headers: { cookie } })).body, '1')
      assert.equal((await send(ours.url, { headers: { cookie } })).body, '2')
      const writtenByUs = await client.get(key)
      assert.equal(writtenByUs, writtenByThem.replace('"views":1', '"views":2').replace(/"expires":"[^"]+"/, (m) => writtenByUs.match(/"expires":"[^"]+"/)[0]))
      assert.ok(Math.abs((await client.ttl(key)) - theirTtl) <= 1, 'TTL within a second')

      // And back.
      assert.equal((await send(theirs.url, { headers: { cookie } })).body, '3')
      assert.equal(JSON.parse(await client.get(key)).views, 3)
    } finally {
      await theirs.close()
      await ours.close()
      await ourStore.close()
    }
  })

  it('writes the same key, JSON text and TTL as connect-redis for the same session', async () => {
    const theirStore = new ConnectRedisStore({ client, prefix })
    const ourStore = new session.RedisStore({ prefix })
    const sess = { cookie: { originalMaxAge: 600000, expires: new Date(Date.now() + 600000).toISOString(), httpOnly: true, path: '/' }, n: 1e21, s: 'é"\\', nested: { a: [1, null, true] } }
    try {
      await theirStore.set('theirs', sess)
      await ourStore.set('ours', sess)
      assert.equal(await client.get(prefix + 'ours'), await client.get(prefix + 'theirs'))
      assert.ok(Math.abs((await client.ttl(prefix + 'ours')) - (await client.ttl(prefix + 'theirs'))) <= 1)
      assert.deepEqual(await ourStore.get('theirs'), await theirStore.get('ours'))
    } finally {
      await ourStore.close()
    }
  })

  it('lists, counts and clears with SCAN, and returns sessions with their id', async () => {
    const store = new session.RedisStore({ prefix: prefix + 'list:', scanCount: 2 })
    try {
      for (let i = 0; i < 5; i++) {
        await store.set('s' + i, { cookie: { expires: new Date(Date.now() + 60000) }, i })
      }
      assert.equal(await store.length(), 5)
      assert.deepEqual((await store.ids()).sort(), ['s0', 's1', 's2', 's3', 's4'])
      const all = await store.all()
      assert.deepEqual(all.map((s) => [s.id, s.i]).sort(), [['s0', 0], ['s1', 1], ['s2', 2], ['s3', 3], ['s4', 4]])
      await store.clear()
      assert.equal(await store.length(), 0)
    } finally {
      await store.close()
    }
  })

  it('deletes a session whose cookie has expired, touches with EXPIRE only, and honours ttl options', async () => {
    const store = new session.RedisStore({ prefix, ttl: 100 })
    const fixed = new session.RedisStore({ prefix, ttl: () => 42 })
    const untimed = new session.RedisStore({ prefix, disableTTL: true })
    try {
      await store.set('gone', { cookie: {} })
      await store.set('gone', { cookie: { expires: new Date(Date.now() - 1000) } })
      assert.equal(await client.exists(prefix + 'gone'), 0)

      await store.set('default', { cookie: {} })
      assert.equal(await client.ttl(prefix + 'default'), 100)

      await fixed.set('fixed', { cookie: { expires: new Date(Date.now() + 600000) } })
      assert.equal(await client.ttl(prefix + 'fixed'), 42)

      await untimed.set('untimed', { cookie: { expires: new Date(Date.now() + 600000) } })
      assert.equal(await client.ttl(prefix + 'untimed'), -1)

      const before = await client.get(prefix + 'default')
      await store.touch('default', { cookie: { expires: new Date(Date.now() + 300000) }, changed: true })
      assert.equal(await client.get(prefix + 'default'), before, 'touch does not rewrite the value')
      assert.ok((await client.ttl(prefix + 'default')) > 290)
    } finally {
      await Promise.all([store.close(), fixed.close(), untimed.close()])
    }
  })

  it('works as an ordinary store inside the real express-session', async () => {
    const store = new session.RedisStore({ prefix })
    const server = await listen(counter(expressSession, store))
    try {
      const cookie = cookiePair(await send(server.url))
      assert.equal((await send(server.url, { headers: { cookie } })).body, '2')
      assert.equal(JSON.parse(await client.get(prefix + sidOf(cookie))).views, 2)
    } finally {
      await server.close()
      await store.close()
    }
  })

  it('saves conditionally on a server that has forgotten the scripts (SCRIPT FLUSH)', async () => {
    const store = new session.RedisStore({ prefix })
    const server = await listen(counter(session, store))
    try {
      const cookie = cookiePair(await send(server.url))
      for (let views = 2; views <= 4; views++) {
        await client.sendCommand(['SCRIPT', 'FLUSH'])
        assert.equal((await send(server.url, { headers: { cookie } })).body, String(views))
        assert.equal(JSON.parse(await client.get(prefix + sidOf(cookie))).views, views)
      }
    } finally {
      await server.close()
      await store.close()
    }
  })

  it('answers a burst of commands from one event-loop turn, each with its own result, in a process that then exits', async () => {
    // In a child process: a throwing callback must become an uncaught exception
    // without costing the other callbacks of its batch their answers.
    const script = `
      const session = require(${JSON.stringify(path.join(__dirname, '..'))})
      const store = new session.RedisStore({ prefix: ${JSON.stringify(prefix + 'burst:')} })
      const uncaught = []
      process.on('uncaughtException', (err) => uncaught.push(err.message))
      const n = 300
      let written = 0
      for (let i = 0; i < n; i++) {
        store.set('s' + i, { cookie: { expires: new Date(Date.now() + 60000) }, n: i }, (err) => {
          if (err) throw err
          const last = ++written === n
          if (i === 7) throw new Error('from callback 7')
          if (!last) return
          const reads = []
          for (let j = 0; j < n; j++) reads.push(store.get('s' + j).then((s) => s && s.n))
          reads.push(store.get('missing'), store.length())
          Promise.all(reads).then((values) => {
            console.log(JSON.stringify({ values, uncaught }))
            return store.clear()
          }).then(() => store.close())
        })
      }
    `
    const { code, output } = await runScript(script, 10000)
    assert.equal(code, 0)
    const { values, uncaught } = JSON.parse(output)
    assert.deepEqual(values.slice(0, 300), Array.from({ length: 300 }, (_, i) => i))
    assert.equal(values[300], null)
    assert.equal(values[301], 300)
    assert.deepEqual(uncaught, ['from callback 7'])
  })

  it('lets a store nobody holds be collected, with its IO thread', { skip: process.platform !== 'linux' && 'counts threads in /proc' }, async () => {
    const script = `
      const session = require(${JSON.stringify(path.join(__dirname, '..'))})
      const threads = () => require('fs').readdirSync('/proc/self/task').length
      ;(async () => {
        const before = threads()
        for (let i = 0; i < 20; i++) await new session.RedisStore({ prefix: 'esrs-gc:' }).get('x')
        const during = threads()
        for (let i = 0; i < 10 && threads() > before; i++) {
          global.gc()
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        console.log(JSON.stringify({ before, during, after: threads() }))
      })()
    `
    const child = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 20000 })
    assert.equal(child.status, 0, child.stderr)
    const { before, during, after } = JSON.parse(child.stdout)
    assert.ok(during > before, 'each store runs a thread while it is used')
    assert.ok(after <= before, `threads: ${before} before, ${during} with 20 stores, ${after} after collection`)
  })

  it('calls back with an error for data that is not JSON', async () => {
    const store = new session.RedisStore({ prefix })
    try {
      await client.set(prefix + 'broken', '{not json')
      await assert.rejects(store.get('broken'), SyntaxError)
      const error = await new Promise((resolve) => store.get('broken', resolve))
      assert.ok(error instanceof SyntaxError)
    } finally {
      await store.close()
    }
  })
})

// A redis-server of the test's own on a spare loopback port.
describe('RedisStore when Redis goes away', needs('redis-server'), () => {
  it('serves without sessions within the command timeout, and every acknowledged session is back after a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esrs-redis-'))
    const port = await freePort()
    const redisArgs = ['--appendonly', 'yes', '--appendfsync', 'always']
    let redis = await startRedis(port, dir, redisArgs)
    const store = new session.RedisStore({ url: `redis://127.0.0.1:${port}`, commandTimeout: 500, connectTimeout: 500, probeInterval: 100 })
    const events = []
    store.on('disconnect', () => events.push('disconnect'))
    store.on('connect', () => events.push('connect'))
    const server = await listen(appWith(session({ secret: 's', resave: false, saveUninitialized: false, store }), (req, res) => {
      if (!req.session) return res.end('no session')
      req.session.n = (req.session.n || 0) + 1
      res.end(String(req.session.n))
    }))
    try {
      const cookies = []
      for (let i = 0; i < 20; i++) {
        const response = await send(server.url)
        assert.equal(response.body, '1')
        cookies.push(cookiePair(response))
      }

      await stopRedis(redis)
      // Requests keep being answered, each within the timeouts.
      const answers = []
      for (let i = 0; i < 6; i++) {
        const started = Date.now()
        const response = await send(server.url, { headers: { cookie: cookies[i] } })
        answers.push(response.status === 500 ? 'error' : response.body)
        assert.ok(Date.now() - started < 1500, 'answered within the timeouts')
        await sleep(50)
      }
      assert.ok(events.includes('disconnect'), 'disconnect was emitted')
      assert.equal(answers[answers.length - 1], 'no session', 'served without a session once disconnected: ' + answers)

      redis = await startRedis(port, dir, redisArgs)
      for (let i = 0; i < 50 && !events.includes('connect'); i++) await sleep(50)
      assert.deepEqual(events, ['disconnect', 'connect'])

      for (const cookie of cookies) {
        assert.equal((await send(server.url, { headers: { cookie } })).body, '2', 'the session survived')
      }
    } finally {
      await server.close()
      await store.close()
      await stopRedis(redis)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('passes a failed save to next(err) and never hangs when Redis is unreachable from the start', async () => {
    const port = await freePort()
    const store = new session.RedisStore({ url: `redis://127.0.0.1:${port}`, commandTimeout: 300, connectTimeout: 300 })
    const errors = []
    const app = express()
    app.use(session({ secret: 's', resave: false, saveUninitialized: true, store }))
    app.use((req, res) => res.end('body'))
    app.use((err, req, res, next) => { errors.push(err) })
    const server = await listen(app)
    try {
      const started = Date.now()
      const response = await send(server.url)
      assert.equal(response.body, 'body')
      assert.ok(Date.now() - started < 1000)
      await sleep(50)
      assert.equal(errors.length, 1)
      assert.match(errors[0].message, /Redis/)
    } finally {
      await server.close()
      await store.close()
    }
  })

  it('does not keep the process alive', async () => {
    const script = `
      const session = require(${JSON.stringify(path.join(__dirname, '..'))})
      const store = new session.RedisStore({ prefix: 'esrs-exit:' })
      store.set('x', { cookie: {} }, (err) => { if (err) throw err; store.get('x', (err, s) => { if (err) throw err; console.log('done') }) })
    `
    const { code, output } = await runScript(script, 5000)
    assert.equal(code, 0)
    assert.equal(output.trim(), 'done')
  })
})

describe('RedisStore on a Redis Cluster', needs('redis-server'), () => {
  it('runs sessions and lists, counts and clears across every primary', async () => {
    const cluster = await startCluster(3)
    const ports = cluster.ports
    let store
    try {
      store = new session.RedisStore({ cluster: ports.map((p) => 'redis://127.0.0.1:' + p), prefix: 'c:', scanCount: 3 })
      const server = await listen(counter(session, store))
      const cookies = []
      try {
        for (let i = 0; i < 30; i++) cookies.push(cookiePair(await send(server.url)))
        for (const cookie of cookies) {
          assert.equal((await send(server.url, { headers: { cookie } })).body, '2')
        }
      } finally {
        await server.close()
      }

      // The sessions really are spread over the primaries.
      const perNode = ports.map((port) => Number(spawnSync('redis-cli', ['-p', String(port), 'dbsize'], { encoding: 'utf8' }).stdout.trim()))
      assert.ok(perNode.filter((n) => n > 0).length >= 2, 'keys on several primaries: ' + perNode)

      assert.equal(await store.length(), 30)
      const all = await store.all()
      assert.deepEqual(all.map((s) => s.id).sort(), cookies.map(sidOf).sort())
      assert.ok(all.every((s) => s.views === 2))
      await store.clear()
      assert.equal(await store.length(), 0)
    } finally {
      if (store) await store.close()
      await cluster.stop()
    }
  })
})
