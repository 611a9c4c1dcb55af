'use strict'

// The HTTP benchmark: for each scenario, one server process per implementation
// (bench/http-server.js, pinned to CPU 0), loaded by autocannon from this
// process (pinned to CPU 1 by bench/run.js), the implementations taking turns
// A B A B so that drift on the machine hits both alike.

const http = require('http')
const path = require('path')
const { spawn } = require('child_process')
const autocannon = require('autocannon')
const { implementations, floor, OURS, THEIRS, FLOOR } = require('./implementations')
const { scenariosFor } = require('./scenarios')
const { median, ratio } = require('./stats')

const SERVER = path.join(__dirname, 'http-server.js')
const CEILING = 'no-session'

/** Starts the app for (impl, scenario); resolves once it listens. */
function startServer (impl, scenario, pinned) {
  const command = pinned ? 'taskset' : process.execPath
  const args = pinned ? ['-c', '0', process.execPath, SERVER] : [SERVER]
  const child = spawn(command, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_IMPL: impl.name, BENCH_SCENARIO: scenario.name }
  })
  const label = `${impl.name} ${scenario.name}`
  const waiting = new Map()
  let exited = null

  child.on('message', (msg) => {
    const waiter = waiting.get(msg.type)
    if (!waiter) return
    waiting.delete(msg.type)
    if (msg.ok === false) waiter.reject(new Error(`${label}: server failed '${msg.type}':\n${msg.error}`))
    else waiter.resolve(msg)
  })
  const fail = (err) => {
    exited = err
    for (const waiter of waiting.values()) waiter.reject(err)
    waiting.clear()
  }
  child.on('error', (err) => fail(new Error(`${label}: could not start the server: ${err.message}`)))
  child.on('exit', (code, signal) => fail(new Error(`${label}: server exited (code ${code}, signal ${signal})`)))

  function waitFor (type) {
    if (exited) return Promise.reject(exited)
    return new Promise((resolve, reject) => waiting.set(type, { resolve, reject }))
  }

  const server = {
    impl,
    scenario,
    label,
    child,
    port: null,
    store: null,
    cookie: null,
    ask (type) {
      const reply = waitFor(type)
      child.send({ type })
      return reply
    },
    async stop () {
      if (exited) return
      const gone = new Promise((resolve) => child.once('exit', resolve))
      try {
        await server.ask('close')
      } catch {
        child.kill()
      }
      await gone
    }
  }

  return waitFor('ready').then((msg) => {
    server.port = msg.port
    server.store = msg.store
    return server
  })
}

/** One plain request (no keep-alive): status, headers and body. */
function get (port, urlPath, cookie) {
  return new Promise((resolve, reject) => {
    const headers = cookie ? { cookie } : {}
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }))
    })
    req.on('error', reject)
  })
}

/** Makes the returning visitor's session and keeps its cookie for every request. */
async function seed (server) {
  const res = await get(server.port, '/seed')
  const setCookie = res.headers['set-cookie']
  if (res.status !== 200 || !setCookie) {
    throw new Error(`${server.label}: seeding failed (status ${res.status}, no Set-Cookie)`)
  }
  server.cookie = setCookie[0].split(';')[0]
}

/** One request as the benchmark will send it: both implementations must answer alike. */
async function probe (server) {
  const res = await get(server.port, '/', server.cookie)
  if (res.status !== 200) {
    throw new Error(`${server.label}: probe got status ${res.status}: ${res.body}`)
  }
  const hasCookie = Boolean(res.headers['set-cookie'])
  // The floor sets a cookie only when it creates a session (see floor.js).
  if (hasCookie !== server.scenario.setCookie && server.impl !== floor) {
    throw new Error(`${server.label}: expected ${server.scenario.setCookie ? 'a' : 'no'} Set-Cookie, got ${res.headers['set-cookie']}`)
  }
}

function load (server, settings, duration) {
  return autocannon({
    url: `http://127.0.0.1:${server.port}/`,
    connections: settings.connections,
    duration,
    headers: server.cookie ? { cookie: server.cookie } : {}
  })
}

// Any failed request fails the benchmark: numbers from errors are not numbers.
function assertClean (result, label) {
  const problems = []
  if (result.errors) problems.push(`${result.errors} socket errors`)
  if (result.timeouts) problems.push(`${result.timeouts} timeouts`)
  if (result.non2xx) problems.push(`${result.non2xx} non-2xx responses ${JSON.stringify(result.statusCodeStats)}`)
  if (!result.requests.total) problems.push('no request completed')
  if (problems.length) throw new Error(`${label}: ${problems.join(', ')}`)
}

async function measure (server, settings) {
  const begun = await server.ask('begin')
  const result = await load(server, settings, settings.duration)
  const ended = await server.ask('end')
  assertClean(result, server.label)

  const handler = server.scenario.handler
  if (handler === 'write' && !(ended.count > begun.count)) {
    throw new Error(`${server.label}: the stored count did not grow (${begun.count} -> ${ended.count}): writes were not saved`)
  }
  if (handler === 'read' && ended.count !== begun.count) {
    throw new Error(`${server.label}: a read-only run changed the stored count (${begun.count} -> ${ended.count})`)
  }

  const requests = result.requests.total
  return {
    requests,
    seconds: result.duration,
    reqPerSec: requests / result.duration,
    p99Ms: result.latency.p99,
    cpuMicros: ended.cpuMicros,
    cpuUsPerReq: ended.cpuMicros / requests,
    countBefore: begun.count,
    countAfter: ended.count
  }
}

async function runScenario (scenario, settings, log) {
  const servers = []
  try {
    // Started one at a time so they do not compete for CPU 0 while loading.
    const runs = scenario.session && settings.floor ? [...implementations, floor] : implementations
    for (const impl of runs) servers.push(await startServer(impl, scenario, settings.pinned))

    for (const server of servers) {
      if (scenario.returning) await seed(server)
      await probe(server)
      if (settings.warmup > 0) assertClean(await load(server, settings, settings.warmup), `${server.label} (warm-up)`)
    }

    const samples = new Map(servers.map((s) => [s.impl.name, []]))
    for (let round = 1; round <= settings.rounds; round++) {
      for (const server of servers) {
        const sample = await measure(server, settings)
        samples.get(server.impl.name).push(sample)
        log(`http ${scenario.name} ${server.impl.name} round ${round}/${settings.rounds}: ` +
          `${Math.round(sample.reqPerSec)} req/s, ${sample.cpuUsPerReq.toFixed(1)} µs CPU/req`)
      }
    }

    return servers.map((s) => ({
      scenario: scenario.name,
      implementation: s.impl.name,
      store: s.store,
      samples: samples.get(s.impl.name)
    }))
  } finally {
    for (const server of servers) await server.stop()
  }
}

/**
 * Runs every HTTP scenario and summarizes: medians over rounds, the session
 * overhead against the no-session ceiling, and ours/theirs ratios.
 */
async function runHttp (settings, log) {
  // The ceiling is always measured: the overhead column depends on it.
  const scenarios = scenariosFor('http', settings.scenarios, [CEILING])
  const measured = []
  for (const scenario of scenarios) measured.push(...await runScenario(scenario, settings, log))

  // Both no-session apps are the same app: pool their rounds into one ceiling.
  const ceiling = median(measured
    .filter((m) => m.scenario === CEILING)
    .flatMap((m) => m.samples.map((s) => s.cpuUsPerReq)))

  const rows = measured.map((m) => {
    const cpuUsPerReq = median(m.samples.map((s) => s.cpuUsPerReq))
    return {
      scenario: m.scenario,
      implementation: m.implementation,
      store: m.store,
      reqPerSec: median(m.samples.map((s) => s.reqPerSec)),
      p99Ms: median(m.samples.map((s) => s.p99Ms)),
      cpuUsPerReq,
      overheadUsPerReq: m.scenario === CEILING ? null : cpuUsPerReq - ceiling,
      samples: m.samples
    }
  })

  for (const row of rows) {
    if (row.implementation !== OURS) continue
    const theirs = rows.find((r) => r.scenario === row.scenario && r.implementation === THEIRS)
    row.reqPerSecRatio = ratio(row.reqPerSec, theirs.reqPerSec)
    row.overheadRatio = row.overheadUsPerReq === null ? null : ratio(theirs.overheadUsPerReq, row.overheadUsPerReq)
    row.cpuRatio = ratio(row.cpuUsPerReq, theirs.cpuUsPerReq)
    const atFloor = rows.find((r) => r.scenario === row.scenario && r.implementation === FLOOR)
    row.floorRatio = atFloor ? ratio(row.cpuUsPerReq, atFloor.cpuUsPerReq) : null
  }

  return {
    settings: {
      rounds: settings.rounds,
      durationSeconds: settings.duration,
      warmupSeconds: settings.warmup,
      connections: settings.connections,
      pinned: settings.pinned,
      floor: settings.floor
    },
    ceilingUsPerReq: ceiling,
    rows
  }
}

module.exports = { runHttp }
