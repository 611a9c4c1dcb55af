'use strict'

// The memory benchmark: each implementation's default MemoryStore filled with
// many realistic sessions, in a fresh `node --expose-gc` child per measurement,
// so one implementation's heap never shows in the other's numbers.
//
// Two children per implementation: `loaded` measures the empty store and the
// store after the fill; `expired` fills with sessions that expire shortly after
// the fill and measures once they have expired (and our store has swept).
// express-session keeps expired sessions until each is read again, so its
// numbers stay high after expiry: that is the behaviour being shown.

const crypto = require('crypto')
const { fork } = require('child_process')
const { implementations, implementationByName, OURS, THEIRS } = require('./implementations')
const { MAX_AGE } = require('./scenarios')
const { ratio } = require('./stats')

// Both stores with their default options (ours sweeps every 60 s). The expiry
// run measures 65 s after the sessions expired: a sweep has run by then,
// whenever the store's timer fell.
const AFTER_EXPIRY_MS = 65000
// Idle time before measuring a loaded store. V8 hands the young generation
// it grew while filling back to the OS only from its memory reducer, which a
// full collection arms and which acts ~8 s later; measured sooner, RSS counts
// tens of MB about to go.
const SETTLE_MS = 12000

// ~200 bytes of JSON, as a logged-in visitor's session typically is.
function sessionData (i, expires) {
  return {
    cookie: { originalMaxAge: MAX_AGE, expires, secure: false, httpOnly: true, path: '/' },
    user: { id: 100000 + i, name: `user${i}`, email: `user${i}@example.com` },
    csrfSecret: 'pX0dA3t7Qm2LwZr9sKv1Ye',
    views: i % 50
  }
}

// Session IDs as express-session makes them: 24 random bytes, base64url.
function sessionId () {
  return crypto.randomBytes(24).toString('base64url')
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Full collections, with turns of the event loop between them so finalizers
// and deferred frees run.
async function settledUsage () {
  for (let i = 0; i < 3; i++) {
    global.gc()
    await sleep(50)
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage()
  return { rss, heapUsed, external, arrayBuffers }
}

// Waits `ms`, collecting every second so the memory reducer is armed and runs.
async function idle (ms) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    global.gc()
    await sleep(Math.min(1000, Math.max(0, until - Date.now())))
  }
}

function storeLength (store) {
  return new Promise((resolve, reject) => store.length((err, n) => err ? reject(err) : resolve(n)))
}

/** Child side: one implementation, one measurement, result sent over IPC. */
async function measureInChild (implName, phase, count, expiryMs) {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc')
  const impl = implementationByName(implName)
  const session = impl.load()
  const { store } = impl.stores.memory(session)
  const result = { implementation: implName, phase, count }

  result.empty = await settledUsage()

  const fillStart = Date.now()
  const expires = new Date(fillStart + expiryMs)
  result.sessionJsonBytes = JSON.stringify(sessionData(0, expires)).length
  if (phase === 'loaded') {
    for (let i = 0; i < count; i++) store.set(sessionId(), sessionData(i, expires))
  } else {
    // As req.session.save() fills it: through the callback API.
    let saved = 0
    await new Promise((resolve, reject) => {
      for (let i = 0; i < count; i++) {
        store.set(sessionId(), sessionData(i, expires), (err) => {
          if (err) reject(err)
          else if (++saved === count) resolve()
        })
      }
    })
  }
  result.fillMs = Date.now() - fillStart
  if (Date.now() >= expires.getTime()) {
    throw new Error(`filling took ${result.fillMs} ms, past the sessions' expiry (${expiryMs} ms): fewer sessions or a release build`)
  }

  if (phase === 'loaded') {
    await idle(SETTLE_MS)
    result.loaded = await settledUsage()
    // After measuring: express-session's length() parses every session.
    const n = await storeLength(store)
    if (n !== count) throw new Error(`${implName}: ${n} sessions stored, expected ${count}`)
    return result
  }

  result.filled = await settledUsage()
  await idle(Math.max(0, expires.getTime() - Date.now()) + AFTER_EXPIRY_MS)
  result.expired = await settledUsage()
  // After measuring, as reading drops expired sessions from express-session's store.
  const n = await storeLength(store)
  if (n !== 0) throw new Error(`${implName}: ${n} sessions still live after expiry`)
  return result
}

/** Parent side: runs one child and returns what it measured. */
function runChild (implName, phase, count, expiryMs) {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [implName, phase, String(count), String(expiryMs)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    let result = null
    child.on('message', (msg) => {
      if (msg.error) reject(new Error(`memory ${implName} ${phase}: ${msg.error}`))
      else result = msg
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (result) resolve(result)
      else reject(new Error(`memory ${implName} ${phase}: child exited with code ${code}`))
    })
  })
}

/** Runs both measurements for both implementations, one child at a time. */
async function runMemory (settings, log) {
  const count = settings.sessions
  const byImpl = {}

  for (const impl of implementations) {
    // Long enough that nothing expires while loading.
    const loaded = await runChild(impl.name, 'loaded', count, 10 * 60 * 1000)
    log(`memory ${impl.name} loaded: ${count} sessions in ${loaded.fillMs} ms, rss ${mb(loaded.loaded.rss)} MB`)
    byImpl[impl.name] = { loaded }
  }

  for (const impl of implementations) {
    // Expire a little after this implementation's fill is done: its measured
    // fill time, half again for safety, plus a few seconds.
    const expiryMs = Math.ceil(byImpl[impl.name].loaded.fillMs * 1.5) + 5000
    log(`memory ${impl.name} expiry run: sessions expire ${expiryMs} ms after the fill starts`)
    const expired = await runChild(impl.name, 'expired', count, expiryMs)
    log(`memory ${impl.name} after expiry: rss ${mb(expired.expired.rss)} MB`)
    byImpl[impl.name].expired = expired
  }

  // Of what the expiry run's fill added, the share given back after expiry.
  const givenBack = Object.fromEntries(implementations.map((impl) => {
    const run = byImpl[impl.name].expired
    return [impl.name, (run.filled.rss - run.expired.rss) / (run.filled.rss - run.empty.rss)]
  }))

  const stages = [
    ['empty store', (r) => r.loaded.empty],
    ['after loading', (r) => r.loaded.loaded],
    ['after expiry (+65 s)', (r) => r.expired.expired]
  ]
  const rows = stages.map(([stage, pick]) => {
    const theirs = pick(byImpl[THEIRS])
    const ours = pick(byImpl[OURS])
    return {
      stage,
      theirsRss: theirs.rss,
      oursRss: ours.rss,
      rssRatio: ratio(theirs.rss, ours.rss),
      theirsHeapUsed: theirs.heapUsed,
      oursHeapUsed: ours.heapUsed,
      heapUsedRatio: ratio(theirs.heapUsed, ours.heapUsed),
      theirs,
      ours
    }
  })

  return {
    settings: { sessions: count, afterExpiryMs: AFTER_EXPIRY_MS, settleMs: SETTLE_MS },
    sessionJsonBytes: byImpl[OURS].loaded.sessionJsonBytes,
    fillUsPerSession: Object.fromEntries(implementations.map((impl) =>
      [impl.name, byImpl[impl.name].loaded.fillMs * 1000 / count])),
    rows,
    givenBack,
    raw: byImpl
  }
}

function mb (bytes) {
  return (bytes / 1048576).toFixed(1)
}

if (require.main === module) {
  const [implName, phase, count, expiryMs] = process.argv.slice(2)
  measureInChild(implName, phase, Number(count), Number(expiryMs)).then(
    (result) => process.send(result, () => process.exit(0)),
    (err) => process.send({ error: err.stack || String(err) }, () => process.exit(1))
  )
}

module.exports = { runMemory }
