'use strict'

// What each kind of request costs Redis: commands, bytes sent to and from the
// server, and bytes stored, for express-session + connect-redis and for
// express-session-rs's native RedisStore (with and without touchAfter).
// Counted from Redis's own INFO (commandstats, total_net_*_bytes) around N
// sequential requests on a real HTTP server, so it is exact, not timed.
//
//   node bench/redis-traffic.js            (N = 200; BENCH_TRAFFIC_REQUESTS to change)

const http = require('http')
const { createClient } = require('redis')
const { implementations } = require('./implementations')
const { sessionOptions, scenarioByName } = require('./scenarios')

const N = Number(process.env.BENCH_TRAFFIC_REQUESTS) || 200
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379'

const kinds = [
  { name: 'new visitor, saved', returning: false, handler: (req) => { req.session.user = { id: 42, name: 'bob' } } },
  { name: 'returning, read-only', returning: true, handler: (req) => req.session.user.name },
  { name: 'returning, read-only, touchAfter', returning: true, touchAfter: 10 * 60 * 1000, handler: (req) => req.session.user.name },
  { name: 'returning, writing', returning: true, handler: (req) => { req.session.count = (req.session.count || 0) + 1 } }
]

async function info (client) {
  const text = (await client.info('commandstats')) + (await client.info('stats'))
  const calls = {}
  let input = 0
  let output = 0
  for (const line of text.split('\r\n')) {
    const stat = /^cmdstat_([a-z|]+):calls=(\d+)/.exec(line)
    if (stat) calls[stat[1]] = Number(stat[2])
    if (line.startsWith('total_net_input_bytes:')) input = Number(line.split(':')[1])
    if (line.startsWith('total_net_output_bytes:')) output = Number(line.split(':')[1])
  }
  return { calls, input, output }
}

function request (port, cookie) {
  return new Promise((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', headers: cookie ? { cookie } : {} }, (res) => {
      res.resume().on('end', () => resolve(res.headers['set-cookie'] ? res.headers['set-cookie'][0].split(';')[0] : cookie))
    }).on('error', reject)
  })
}

async function measure (impl, kind, monitor) {
  const session = impl.load()
  const prefix = `bench-traffic:${impl.name}:${Date.now()}:`
  const { store, description, close } = await impl.stores.redis(session, prefix)
  const base = sessionOptions(scenarioByName('redis-read'), store)
  const options = kind.touchAfter !== undefined ? { ...base, touchAfter: kind.touchAfter } : base
  const mw = session(options)
  const server = http.createServer((req, res) => mw(req, res, (err) => {
    if (err) { res.statusCode = 500; return res.end(String(err)) }
    kind.handler(req)
    res.end('ok')
  }))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = server.address().port
  try {
    // Returning visitors: one session each, seeded before counting.
    const cookies = []
    for (let i = 0; kind.returning && i < N; i++) {
      const seeder = session({ ...base })
      cookies.push(await new Promise((resolve) => {
        const s = http.createServer((req, res) => seeder(req, res, () => { req.session.user = { id: 42, name: 'bob' }; res.end() }))
        s.listen(0, '127.0.0.1', async () => { const c = await request(s.address().port); s.close(); resolve(c) })
      }))
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
    const before = await info(monitor)
    for (let i = 0; i < N; i++) await request(port, kind.returning ? cookies[i] : undefined)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const after = await info(monitor)
    const commands = {}
    for (const [name, calls] of Object.entries(after.calls)) {
      const delta = calls - (before.calls[name] || 0)
      // INFO itself is the monitor's, once per snapshot.
      if (delta > 0 && name !== 'info') commands[name] = delta / N
    }
    const keys = []
    for await (const batch of monitor.scanIterator({ MATCH: prefix + '*' })) keys.push(...batch)
    let stored = 0
    for (const key of keys) stored += Number(await monitor.sendCommand(['MEMORY', 'USAGE', key]))
    for (const key of keys) await monitor.del(key)
    return {
      store: description,
      commands,
      // Less the two INFO calls of the monitor itself (a few dozen bytes).
      sent: (after.input - before.input) / N,
      received: (after.output - before.output) / N,
      storedPerSession: keys.length ? stored / keys.length : 0
    }
  } finally {
    server.close()
    await close()
  }
}

async function main () {
  const monitor = createClient({ url: REDIS_URL })
  await monitor.connect()
  const rows = []
  for (const kind of kinds) {
    for (const impl of implementations) {
      if (kind.touchAfter !== undefined && impl.name === 'express-session') continue
      const result = await measure(impl, kind, monitor)
      rows.push({ kind: kind.name, implementation: impl.name, ...result })
      console.error(`${kind.name} ${impl.name}: ${JSON.stringify(result)}`)
    }
  }
  await monitor.quit()
  console.log('| request | implementation | store | Redis commands per request | bytes to Redis | bytes from Redis | bytes stored per session |')
  console.log('| --- | --- | --- | --- | --: | --: | --: |')
  for (const r of rows) {
    const commands = Object.entries(r.commands).map(([name, n]) => `${n.toFixed(2)} ${name.toUpperCase()}`).join(', ')
    console.log(`| ${r.kind} | ${r.implementation} | ${r.store} | ${commands} | ${r.sent.toFixed(0)} | ${r.received.toFixed(0)} | ${r.storedPerSession.toFixed(0)} |`)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
