'use strict'

// Load and soak: at least 1,000,000 requests over HTTP through the default
// MemoryStore, mixing new visitors, reads, writes and destroys, with some
// sessions abandoned to expire. Reports the server's RSS and live sessions at
// the start, the middle and the end: memory must follow the live sessions, not
// the number of requests served.
//
//   npm run build && node bench/soak.js            (SOAK_REQUESTS=200000 for a shorter run)

const { fork } = require('child_process')
const http = require('http')

const TOTAL = Number(process.env.SOAK_REQUESTS || 1000000)
const USERS = Number(process.env.SOAK_USERS || 64)
const SESSION_MS = Number(process.env.SOAK_SESSION_MS || 5000)

if (process.argv[2] === 'server') {
  serve()
} else {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

// The app under load, in its own process so its memory is measured alone.
function serve () {
  const express = require('express')
  const session = require('..')
  const store = new session.MemoryStore({ sweepInterval: 1000 })
  const app = express()
  app.use(session({ secret: 'soak', resave: false, saveUninitialized: false, store, cookie: { maxAge: SESSION_MS } }))
  app.get('/new', (req, res) => {
    req.session.user = { id: Math.random(), name: 'visitor' }
    req.session.count = 0
    res.end('new')
  })
  app.get('/read', (req, res) => res.end(req.session.user ? req.session.user.name : 'none'))
  app.get('/write', (req, res) => {
    req.session.count = (req.session.count || 0) + 1
    req.session.last = Date.now()
    res.end(String(req.session.count))
  })
  app.get('/destroy', (req, res) => req.session.destroy(() => res.end('gone')))
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
  process.on('message', () => {
    store.length((err, live) => {
      if (err) throw err
      const { rss, heapUsed } = process.memoryUsage()
      process.send({ rss, heapUsed, live })
    })
  })
}

async function main () {
  const child = fork(__filename, ['server'], { execArgv: ['--expose-gc'] })
  const { port } = await new Promise((resolve) => child.once('message', resolve))
  const agent = new http.Agent({ keepAlive: true, maxSockets: USERS })
  // Replies come back in order: one waiting resolver per request.
  const waiting = []
  child.on('message', (reply) => waiting.shift()(reply))
  const measure = () => new Promise((resolve) => {
    waiting.push(resolve)
    child.send('measure')
  })

  const counts = { new: 0, read: 0, write: 0, destroy: 0, errors: 0 }
  let sent = 0
  const samples = [{ at: 0, ...(await measure()) }]
  const checkpoints = [Math.floor(TOTAL / 2), TOTAL]

  function get (path, cookie) {
    return new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent, headers: cookie ? { cookie } : {} }, (res) => {
        const setCookie = res.headers['set-cookie']
        res.resume().on('end', () => resolve({ status: res.statusCode, cookie: setCookie && setCookie[0].split(';')[0] }))
      })
      req.on('error', () => resolve({ status: 0 }))
    })
  }

  async function visit (path, cookie) {
    sent++
    counts[path.slice(1)]++
    const response = await get(path, cookie)
    if (response.status !== 200) counts.errors++
    return response
  }

  // A visitor: arrives, reads and writes a few times, then leaves by logging
  // out (one in four) or by just going away (the session expires).
  async function user () {
    while (sent < TOTAL) {
      const { cookie } = await visit('/new')
      for (let i = 0; i < 8 && sent < TOTAL; i++) await visit(i % 3 === 0 ? '/write' : '/read', cookie)
      if (Math.random() < 0.25 && sent < TOTAL) await visit('/destroy', cookie)
    }
  }

  const started = Date.now()
  let next = 0
  const reporter = setInterval(async () => {
    if (next < checkpoints.length - 1 && sent >= checkpoints[next]) {
      next++
      const at = sent
      samples.push({ at, ...(await measure()) })
    }
  }, 200)
  await Promise.all(Array.from({ length: USERS }, user))
  clearInterval(reporter)
  const seconds = (Date.now() - started) / 1000
  samples.push({ at: sent, ...(await measure()) })
  // Once the last sessions have expired and been swept.
  await new Promise((resolve) => setTimeout(resolve, SESSION_MS + 2500))
  samples.push({ at: 'after expiry', ...(await measure()) })

  agent.destroy()
  child.kill()

  const mb = (bytes) => (bytes / 1048576).toFixed(1)
  console.log(`${sent} requests in ${seconds.toFixed(0)} s (${Math.round(sent / seconds)} req/s), ${USERS} concurrent visitors, sessions expire after ${SESSION_MS} ms`)
  console.log(`new ${counts.new}, read ${counts.read}, write ${counts.write}, destroy ${counts.destroy}, errors ${counts.errors}`)
  console.log('\nrequests       RSS MB   heap MB   live sessions')
  for (const s of samples) {
    console.log(`${String(s.at).padEnd(13)}  ${mb(s.rss).padStart(6)}   ${mb(s.heapUsed).padStart(7)}   ${String(s.live).padStart(13)}`)
  }
  if (counts.errors > 0) {
    console.error(`${counts.errors} requests failed`)
    process.exit(1)
  }
}
