'use strict'

// The HTTP benchmark: for each scenario, one server process per implementation
// (bench/http-server.js, pinned to CPU 0), loaded by autocannon from this
// process (pinned to CPU 1 by bench/run.js), the implementations taking turns
// A B A B so that drift on the machine hits both alike.

const autocannon = require('autocannon')
const { implementations, floor, OURS, THEIRS, FLOOR } = require('./implementations')
const { scenariosFor, scenarioByName } = require('./scenarios')
const { median, ratio } = require('./stats')
const { startServer, seed, probe } = require('./app-server')

const CEILING = 'no-session'

function load (server, settings, duration) {
  return autocannon({
    url: `http://127.0.0.1:${server.port}/`,
    connections: server.scenario.connections || settings.connections,
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
    const wrapper = settings.pinned ? ['taskset', '-c', '0'] : []
    for (const impl of runs) servers.push(await startServer(impl, scenario, { wrapper }))

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
      // The ceiling is measured at BENCH_CONNECTIONS: no overhead for other counts.
      overheadUsPerReq: m.scenario === CEILING || scenarioByName(m.scenario).connections ? null : cpuUsPerReq - ceiling,
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
