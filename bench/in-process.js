'use strict'

// The in-process benchmark: each middleware called directly with emulated
// req/res objects, so the numbers are the middleware's own cost with no HTTP
// parsing or sockets around it. Each request is awaited until the response has
// really ended: express-session only ends it after the store's (deferred)
// callback, and that wait is part of what a request costs.
//
// Every sample runs in a process of its own (this file, run with --sample), as
// each HTTP server does: with both middlewares and every scenario in one
// process, the code they share (on-headers, parseurl, the emulated req/res)
// sees every shape and turns polymorphic, which skewed the figures by up to 4×
// (express-session-rs new-not-saved: 2.0 us alone, 9.0 us in the shared process).

const { spawn } = require('child_process')
const { implementations, implementationByName, OURS, THEIRS } = require('./implementations')
const { scenariosFor, scenarioByName, sessionOptions, handlers, seedSession } = require('./scenarios')
const { median, ratio } = require('./stats')

// What a request resolves with. A class, not an object literal: V8 sometimes
// decided to allocate a literal's objects straight in the old generation
// (allocation-site pretenuring), and each such object then kept its request's
// whole object graph alive through every scavenge: 4.3 MB promoted per scavenge
// instead of none, and runs 3-4 times slower than the same code without it
// (--trace-pretenuring, --trace-gc-nvp; gone with --no-allocation-site-pretenuring).
// Which runs hit it was chance, so the medians were too.
class Exchange {
  constructor (req, res) {
    this.req = req
    this.res = res
  }
}

// The part of http.IncomingMessage the middlewares read.
class FakeRequest {
  constructor (cookie) {
    this.method = 'GET'
    this.url = '/'
    this.originalUrl = '/'
    this.headers = cookie ? { cookie } : {}
    this.connection = { encrypted: false }
    this.socket = this.connection
  }
}

// The part of http.ServerResponse the middlewares use. Headers go out the way
// Node sends them: end() and write() call _implicitHeader(), which calls
// writeHead(), the method on-headers wraps to set the cookie.
class FakeResponse {
  constructor (onEnd) {
    this.statusCode = 200
    this.headers = Object.create(null)
    this._header = null
    this.finished = false
    this.onEnd = onEnd
  }

  getHeader (name) {
    return this.headers[name.toLowerCase()]
  }

  setHeader (name, value) {
    if (this._header) throw new Error('headers already sent')
    this.headers[name.toLowerCase()] = value
    return this
  }

  removeHeader (name) {
    delete this.headers[name.toLowerCase()]
  }

  writeHead (statusCode) {
    this.statusCode = statusCode
    this._header = `HTTP/1.1 ${statusCode}\r\n`
    return this
  }

  _implicitHeader () {
    this.writeHead(this.statusCode)
  }

  write () {
    if (!this._header) this._implicitHeader()
    return true
  }

  end () {
    if (!this._header) this._implicitHeader()
    this.finished = true
    this.onEnd(this)
    return this
  }
}

/**
 * One emulated request through `middleware`, then the scenario's handler;
 * resolves with the response once the original end() has run.
 */
function request (middleware, cookie, handler, failures) {
  return new Promise((resolve, reject) => {
    const req = new FakeRequest(cookie)
    const res = new FakeResponse(() => resolve(new Exchange(req, res)))
    let done = false
    middleware(req, res, (err) => {
      // next(err) can also come after the response, from a failed save.
      if (err) {
        failures.push(err)
        reject(err)
        return
      }
      if (done) {
        reject(new Error('next() called twice'))
        return
      }
      done = true
      try {
        res.end(handler(req))
      } catch (e) {
        reject(e)
      }
    })
  })
}

function storeLength (store) {
  return new Promise((resolve, reject) => store.length((err, n) => err ? reject(err) : resolve(n)))
}

function storedSession (store, id) {
  return new Promise((resolve, reject) => store.get(id, (err, s) => err ? reject(err) : resolve(s)))
}

const BATCH = 256

/** One (implementation, scenario) run on a fresh middleware and default store. */
async function runOnce (impl, scenario, settings) {
  const session = impl.load()
  // No `store` option: each implementation's default MemoryStore.
  const middleware = session(sessionOptions(scenario, undefined))
  const failures = []

  let cookie
  let store
  let seededId
  if (scenario.returning) {
    const { req, res } = await request(middleware, undefined, (r) => {
      seedSession(r.session)
      return 'seeded'
    }, failures)
    const setCookie = res.getHeader('Set-Cookie')
    if (!setCookie) throw new Error(`${impl.name} ${scenario.name}: seeding set no cookie`)
    cookie = [].concat(setCookie)[0].split(';')[0]
    store = req.sessionStore
    seededId = req.sessionID
  }

  // Counts the reads that saw the seeded session, so a broken read is not timed.
  let seen = 0
  const handle = handlers[scenario.handler]
  const handler = scenario.handler === 'read'
    ? (req) => {
        if (handle(req) === 'bob') seen++
        return 'bob'
      }
    : handle

  let iterations = 0
  async function one () {
    const { req, res } = await request(middleware, cookie, handler, failures)
    iterations++
    if (Boolean(res.headers['set-cookie']) !== scenario.setCookie) {
      throw new Error(`${impl.name} ${scenario.name}: expected ${scenario.setCookie ? 'a' : 'no'} Set-Cookie`)
    }
    if (!store) store = req.sessionStore
  }

  for (let i = 0; i < settings.warmup; i++) await one()
  if (global.gc) global.gc()

  const warmed = iterations
  const budget = BigInt(Math.round(settings.duration * 1e9))
  const start = process.hrtime.bigint()
  let elapsed
  do {
    for (let i = 0; i < BATCH; i++) await one()
    elapsed = process.hrtime.bigint() - start
  } while (elapsed < budget)
  const measured = iterations - warmed

  // Let any late store callback land before checking.
  await new Promise((resolve) => setImmediate(resolve))
  if (failures.length) throw failures[0]
  await check(impl, scenario, { store, seededId, iterations, seen })

  return { iterations: measured, nsPerRequest: Number(elapsed) / measured }
}

// Proof that the timed work was the work the scenario names.
async function check (impl, scenario, run) {
  const fail = (what) => {
    throw new Error(`${impl.name} ${scenario.name}: ${what}`)
  }
  switch (scenario.name) {
    case 'new-not-saved': {
      const n = await storeLength(run.store)
      if (n !== 0) fail(`${n} sessions stored, expected none`)
      break
    }
    case 'new-saved': {
      const n = await storeLength(run.store)
      if (n !== run.iterations) fail(`${n} sessions stored, expected ${run.iterations}`)
      break
    }
    case 'writing': {
      const sess = await storedSession(run.store, run.seededId)
      if (!sess || sess.count !== run.iterations) fail(`stored count ${sess && sess.count}, expected ${run.iterations}`)
      break
    }
    default:
      if (scenario.handler === 'read' && run.seen !== run.iterations) {
        fail(`the seeded user was seen in ${run.seen} of ${run.iterations} requests`)
      }
  }
}

/** One sample in a fresh process; resolves with `{ iterations, nsPerRequest }`. */
function sampleInChild (impl, scenario, settings) {
  return new Promise((resolve, reject) => {
    const args = ['--expose-gc', __filename, '--sample', impl.name, scenario.name,
      String(settings.duration), String(settings.warmup)]
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let output = ''
    child.stdout.on('data', (chunk) => { output += chunk })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`in-process ${impl.name} ${scenario.name}: sample process exited with ${code}`))
        return
      }
      resolve(JSON.parse(output))
    })
  })
}

/** Runs every in-process scenario, implementations alternating each round. */
async function runInProcess (settings, log) {
  const rows = []
  for (const scenario of scenariosFor('inprocess', settings.scenarios)) {
    const samples = new Map(implementations.map((impl) => [impl.name, []]))
    for (let round = 1; round <= settings.rounds; round++) {
      for (const impl of implementations) {
        const sample = await sampleInChild(impl, scenario, settings)
        samples.get(impl.name).push(sample)
        log(`in-process ${scenario.name} ${impl.name} round ${round}/${settings.rounds}: ` +
          `${Math.round(sample.nsPerRequest)} ns/req (${sample.iterations} requests)`)
      }
    }
    const theirs = median(samples.get(THEIRS).map((s) => s.nsPerRequest))
    const ours = median(samples.get(OURS).map((s) => s.nsPerRequest))
    rows.push({
      scenario: scenario.name,
      theirsNsPerRequest: theirs,
      oursNsPerRequest: ours,
      ratio: ratio(theirs, ours),
      samples: Object.fromEntries(samples)
    })
  }
  return {
    settings: {
      rounds: settings.rounds,
      durationSeconds: settings.duration,
      warmupRequests: settings.warmup
    },
    rows
  }
}

module.exports = { runInProcess, FakeRequest, FakeResponse }

// A sample process: `node in-process.js --sample <implementation> <scenario> <seconds> <warm-up requests>`.
if (require.main === module && process.argv[2] === '--sample') {
  const [name, scenarioName, duration, warmup] = process.argv.slice(3)
  const scenario = scenarioByName(scenarioName)
  runOnce(implementationByName(name), scenario, { duration: Number(duration), warmup: Number(warmup) })
    .then((sample) => process.stdout.write(JSON.stringify(sample)))
    .catch((err) => {
      console.error(err.stack || err)
      process.exit(1)
    })
}
