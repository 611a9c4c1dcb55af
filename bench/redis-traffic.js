'use strict'

// What each kind of request costs Redis: commands, bytes sent to and from the
// server, server CPU per command, and bytes stored, for express-session +
// connect-redis and for express-session-rs's native RedisStore (with and
// without touchAfter). Counted from Redis's own INFO (commandstats,
// total_net_*_bytes) around N sequential requests on a real HTTP server, so the
// command and byte counts are exact, not timed. Use a Redis of its own: other
// clients' commands would be counted too.
//
//   BENCH_REDIS_URL=redis://127.0.0.1:6390 node bench/redis-traffic.js
//   (N = 200; BENCH_TRAFFIC_REQUESTS to change)
//
// Redis counts the commands a Lua script calls in commandstats as well as the
// script call itself: the native store's EVALSHA shows up with the GET and SET
// it runs inside Redis. Those are one command on the wire.

const http = require('http')
const { createClient } = require('redis')
const { implementations, REDIS_URL } = require('./implementations')
const { sessionOptions, scenarioByName } = require('./scenarios')

const N = Number(process.env.BENCH_TRAFFIC_REQUESTS) || 200
// Short, so that waiting it out before counting is quick.
const TOUCH_AFTER_PASSED = 1000

const login = (req) => { req.session.user = { id: 42, name: 'bob' } }
const read = (req) => {
  if (!req.session.user || req.session.user.name !== 'bob') throw new Error('expected the seeded session')
}

const kinds = [
  // saveUninitialized: false (as in every kind here): nothing to store.
  { name: 'new visitor, not saved', returning: false, handler: () => {} },
  { name: 'new visitor, saved', returning: false, handler: login },
  // express-session touches the store on every read-only visit (store.touch).
  { name: 'returning, read-only (read + touch)', returning: true, handler: read },
  { name: 'returning, read-only, store disableTouch', returning: true, storeOptions: { disableTouch: true }, handler: read },
  // touchAfter is express-session-rs's alone; express-session ignores it.
  { name: 'returning, read-only, touchAfter not yet passed', returning: true, oursOnly: true, options: { touchAfter: 10 * 60 * 1000 }, handler: read },
  {
    name: 'returning, read-only, touchAfter passed (touch)',
    returning: true,
    oursOnly: true,
    options: { touchAfter: TOUCH_AFTER_PASSED },
    waitAfterSeed: TOUCH_AFTER_PASSED + 200,
    handler: read
  },
  { name: 'returning, writing', returning: true, handler: (req) => { req.session.count = (req.session.count || 0) + 1 } }
]

async function info (client) {
  const text = (await client.info('commandstats')) + (await client.info('stats'))
  const calls = {}
  const usec = {}
  let input = 0
  let output = 0
  for (const line of text.split('\r\n')) {
    const stat = /^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/.exec(line)
    if (stat) {
      calls[stat[1]] = Number(stat[2])
      usec[stat[1]] = Number(stat[3])
    }
    if (line.startsWith('total_net_input_bytes:')) input = Number(line.split(':')[1])
    if (line.startsWith('total_net_output_bytes:')) output = Number(line.split(':')[1])
  }
  return { calls, usec, input, output }
}

function request (port, cookie) {
  return new Promise((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', headers: cookie ? { cookie } : {} }, (res) => {
      res.resume().on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`))
        resolve(res.headers['set-cookie'] ? res.headers['set-cookie'][0].split(';')[0] : cookie)
      })
    }).on('error', reject)
  })
}

function listen (handler) {
  const server = http.createServer(handler)
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// The implementation's Redis store, with the kind's store options. Same-length
// prefixes for both implementations, so that stored sizes compare.
async function openStore (impl, session, kind, prefix) {
  const opened = await impl.stores.redis(session, prefix)
  if (!kind.storeOptions) return opened
  if (opened.description === 'native RedisStore') {
    await opened.close()
    const store = new session.RedisStore({ url: REDIS_URL, prefix, ...kind.storeOptions })
    return { store, description: opened.description, close: () => store.close() }
  }
  // connect-redis reads its options from the instance on each call.
  Object.assign(opened.store, kind.storeOptions)
  return opened
}

let runs = 0
const runId = Date.now().toString(36)

async function measure (impl, kind, monitor, idle) {
  const session = impl.load()
  const prefix = `bench-traffic:${runId}:${String(runs++).padStart(2, '0')}:`
  const { store, description, close } = await openStore(impl, session, kind, prefix)
  const base = sessionOptions(scenarioByName('redis-read'), store)
  const mw = session({ ...base, ...(kind.options || {}) })
  const server = await listen((req, res) => mw(req, res, (err) => {
    if (err) { res.statusCode = 500; return res.end(String(err)) }
    try {
      kind.handler(req)
    } catch (e) {
      res.statusCode = 500
      return res.end(String(e))
    }
    res.end('ok')
  }))
  const port = server.address().port
  const seeding = session({ ...base })
  const seeder = await listen((req, res) => seeding(req, res, () => { login(req); res.end() }))
  try {
    // Returning visitors: one session each (and one for the warm-up request),
    // seeded before counting.
    const cookies = []
    for (let i = 0; kind.returning && i <= N; i++) cookies.push(await request(seeder.address().port))
    if (kind.waitAfterSeed) await sleep(kind.waitAfterSeed)
    // One request first, not counted: connecting, loading scripts.
    await request(port, kind.returning ? cookies[N] : undefined)
    await sleep(50)
    const before = await info(monitor)
    for (let i = 0; i < N; i++) await request(port, kind.returning ? cookies[i] : undefined)
    await sleep(50)
    const after = await info(monitor)
    const commands = {}
    const usecPerCall = {}
    for (const [name, calls] of Object.entries(after.calls)) {
      const delta = calls - (before.calls[name] || 0)
      // INFO itself is the monitor's, once per snapshot.
      if (delta > 0 && name !== 'info') {
        commands[name] = delta / N
        usecPerCall[name] = (after.usec[name] - (before.usec[name] || 0)) / delta
      }
    }
    const keys = []
    for await (const batch of monitor.scanIterator({ MATCH: prefix + '*' })) keys.push(...batch)
    const stored = { keys: keys.length, key: 0, value: 0, memory: 0 }
    for (const key of keys) {
      stored.key += Buffer.byteLength(key)
      stored.value += Number(await monitor.strLen(key))
      stored.memory += Number(await monitor.sendCommand(['MEMORY', 'USAGE', key]))
    }
    for (const key of keys) await monitor.del(key)
    const per = (total) => keys.length ? total / keys.length : 0
    return {
      store: description,
      commands,
      usecPerCall,
      // Less what the monitor's own two INFO calls move.
      sent: (after.input - before.input - idle.input) / N,
      received: (after.output - before.output - idle.output) / N,
      keyBytes: per(stored.key),
      valueBytes: per(stored.value),
      memoryUsage: per(stored.memory)
    }
  } finally {
    server.close()
    seeder.close()
    await close()
  }
}

async function main () {
  const monitor = createClient({ url: REDIS_URL })
  await monitor.connect()
  // What two snapshots with nothing between them move on the network.
  const first = await info(monitor)
  const second = await info(monitor)
  const idle = { input: second.input - first.input, output: second.output - first.output }
  const rows = []
  for (const kind of kinds) {
    for (const impl of implementations) {
      if (kind.oursOnly && impl.name === 'express-session') continue
      const result = await measure(impl, kind, monitor, idle)
      rows.push({ kind: kind.name, implementation: impl.name, ...result })
      console.error(`${kind.name} ${impl.name}: ${JSON.stringify(result)}`)
    }
  }
  await monitor.quit()
  console.log(`N = ${N} requests per row; commands per request as Redis counts them (a script's own calls included).\n`)
  console.log('| request | implementation | store | Redis commands per request | bytes to Redis | bytes from Redis | key bytes | value bytes (STRLEN) | MEMORY USAGE |')
  console.log('| --- | --- | --- | --- | --: | --: | --: | --: | --: |')
  const fixed = (n) => n ? n.toFixed(0) : '-'
  for (const r of rows) {
    const commands = Object.entries(r.commands).map(([name, n]) => `${n.toFixed(2)} ${name.toUpperCase()}`).join(', ') || 'none'
    console.log(`| ${r.kind} | ${r.implementation} | ${r.store} | ${commands} | ${r.sent.toFixed(0)} | ${r.received.toFixed(0)} | ${fixed(r.keyBytes)} | ${fixed(r.valueBytes)} | ${fixed(r.memoryUsage)} |`)
  }
  console.log('\nServer CPU per command (INFO commandstats usec / calls, over all rows above):\n')
  const total = {}
  for (const r of rows) {
    for (const [name, n] of Object.entries(r.commands)) {
      const t = total[name] || (total[name] = { calls: 0, usec: 0 })
      t.calls += n * N
      t.usec += n * N * r.usecPerCall[name]
    }
  }
  console.log('| command | calls | µs per call |')
  console.log('| --- | --: | --: |')
  for (const [name, t] of Object.entries(total)) console.log(`| ${name.toUpperCase()} | ${t.calls} | ${(t.usec / t.calls).toFixed(2)} |`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
