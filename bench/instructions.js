'use strict'

// The instruction-count benchmark: instructions per request over real HTTP,
// counted by callgrind, for express-session, express-session-rs and the
// API-shape floor (floor.js), with the app of the HTTP benchmark
// (http-server.js) as the server. Unlike CPU time, the count hardly moves from
// one run to the next: the server runs `node --single-threaded` (no background
// compiler or GC threads) and serves one keep-alive connection, one request at
// a time, so the same run does the same work.
//
// For each (implementation, scenario): the server starts under
// `valgrind --tool=callgrind --instr-atstart=no` (uninstrumented, so start-up
// and warm-up run several times faster), gets the seeding request (returning
// visitors) and a probe, then BENCH_INSTR_WARMUP requests for V8 to optimize;
// then `callgrind_control --instr=on`, BENCH_INSTR_SETTLE requests, `--zero`, and
// BENCH_INSTR_WINDOWS windows of BENCH_INSTR_REQUESTS requests each, each
// closed by `callgrind_control --dump`. A window's count is the `summary:` line
// of its dump: every instruction the process ran in it, all threads (the native
// RedisStore's IO thread included), the kernel's work not. Instructions per
// request: the windows' total over their requests. The windows' spread says how
// stable the count is (mostly: a mark-compact falls in one window or the next).
//
// `node bench/instructions.js` or `npm run bench -- instructions`; writes
// bench/results/instructions.{json,md}.

const fs = require('fs')
const os = require('os')
const path = require('path')
const http = require('http')
const { spawnSync, execFileSync } = require('child_process')

const { implementations, floor, THEIRS, OURS, FLOOR } = require('./implementations')
const { scenariosFor } = require('./scenarios')
const { ratio } = require('./stats')
const { renderText } = require('./report')
const { startServer, get, seed, probe } = require('./app-server')

const ROOT = path.join(__dirname, '..')
const RESULTS = path.join(__dirname, 'results')
const BARE = 'no-session'

function positive (name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!(value > 0) || !Number.isInteger(value)) throw new Error(`${name} must be a positive integer, got ${raw}`)
  return value
}

function readSettings () {
  return {
    requests: positive('BENCH_INSTR_REQUESTS', 2000),
    windows: positive('BENCH_INSTR_WINDOWS', 2),
    warmup: positive('BENCH_INSTR_WARMUP', 15000),
    // Instrumented but not counted: the first window after instrumentation
    // starts counted 1-6 % more than the next ones, for all three.
    settle: positive('BENCH_INSTR_SETTLE', 2000),
    scenarios: process.env.BENCH_SCENARIOS || '',
    implementations: process.env.BENCH_INSTR_IMPLS || '',
    // Profile: JIT code named (--perf-basic-prof) and the dumps kept, for
    // instructions-profile.js.
    profile: process.env.BENCH_INSTR_PROFILE === '1',
    keep: process.env.BENCH_INSTR_KEEP === '1' || process.env.BENCH_INSTR_PROFILE === '1',
    pinned: process.env.BENCH_PINNED === '1'
  }
}

function which (tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0
}

/** The app for (impl, scenario) under callgrind; resolves once it listens. */
async function startUnderCallgrind (impl, scenario, outDir, settings) {
  const outFile = path.join(outDir, `${impl.name}.${scenario.name}.out`)
  const valgrind = ['valgrind', '-q', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outFile}`,
    // Native code reached from many JS functions (IC misses, API calls) is told
    // apart by who called it, so instructions-profile.js can hand it to them.
    ...(settings.profile ? ['--separate-callers=6'] : [])]
  // The server on CPU 0 when run.js pinned itself (and this client) to CPU 1.
  const wrapper = settings.pinned ? ['taskset', '-c', '0', ...valgrind] : valgrind
  const nodeArgs = settings.profile ? ['--single-threaded', '--perf-basic-prof'] : ['--single-threaded']
  const server = await startServer(impl, scenario, { wrapper, nodeArgs })
  server.outFile = outFile
  server.control = (...args) => {
    try {
      execFileSync('callgrind_control', [...args, String(server.pid)], { stdio: 'pipe', encoding: 'utf8' })
    } catch (err) {
      throw new Error(`${server.label}: callgrind_control ${args.join(' ')} failed: ${err.stderr || err.message}`)
    }
  }
  return server
}

/** `count` sequential requests on the agent's one keep-alive connection; the sockets used. */
async function sequential (server, agent, count) {
  const sockets = new Set()
  for (let i = 0; i < count; i++) {
    const res = await get(server.port, '/', server.cookie, agent)
    if (res.status !== 200) throw new Error(`${server.label}: status ${res.status}: ${res.body}`)
    sockets.add(res.socket)
  }
  return sockets
}

/** The Ir of the dump callgrind wrote for `trigger` (its `summary:` line). */
async function readDump (server, trigger) {
  const dir = path.dirname(server.outFile)
  const prefix = `${path.basename(server.outFile)}.`
  // callgrind_control returns once callgrind took the command; give the file a moment.
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const name of fs.readdirSync(dir).filter((f) => f.startsWith(prefix))) {
      const text = fs.readFileSync(path.join(dir, name), 'utf8')
      if (!text.includes(`\ndesc: Trigger: dump ${trigger}\n`)) continue
      const summary = /^summary:\s*(\d+)/m.exec(text) || /^totals:\s*(\d+)/m.exec(text)
      if (summary) return { file: name, ir: Number(summary[1]) }
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${server.label}: no callgrind dump for '${trigger}' in ${dir}`)
}

async function measure (impl, scenario, outDir, settings, log) {
  const started = Date.now()
  const server = await startUnderCallgrind(impl, scenario, outDir, settings)
  try {
    if (scenario.returning) await seed(server)
    await probe(server)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      await sequential(server, agent, settings.warmup)
      const begun = await server.ask('begin')

      server.control('--instr=on')
      await sequential(server, agent, settings.settle)
      server.control('--zero')
      const windows = []
      const sockets = new Set()
      for (let w = 1; w <= settings.windows; w++) {
        for (const socket of await sequential(server, agent, settings.requests)) sockets.add(socket)
        const trigger = `window-${w}`
        server.control(`--dump=${trigger}`)
        const { ir } = await readDump(server, trigger)
        windows.push({ ir, irPerRequest: ir / settings.requests })
      }
      server.control('--instr=off')
      const ended = await server.ask('end')
      // The JIT code's names, beside the dumps.
      if (settings.profile) fs.copyFileSync(`/tmp/perf-${server.pid}.map`, `${server.outFile}.map`)

      // As http.js: a write that is not saved, or a read that writes, fails the run.
      if (scenario.handler === 'write' && !(ended.count > begun.count)) {
        throw new Error(`${server.label}: the stored count did not grow (${begun.count} -> ${ended.count}): writes were not saved`)
      }
      if (scenario.handler === 'read' && ended.count !== begun.count) {
        throw new Error(`${server.label}: a read-only run changed the stored count (${begun.count} -> ${ended.count})`)
      }

      const requests = settings.requests * windows.length
      const irPerRequest = windows.reduce((sum, w) => sum + w.ir, 0) / requests
      const perWindow = windows.map((w) => w.irPerRequest)
      const spread = (Math.max(...perWindow) - Math.min(...perWindow)) / irPerRequest
      const result = {
        scenario: scenario.name,
        implementation: impl.name,
        store: server.store,
        irPerRequest,
        windows,
        spread,
        // More than one means the keep-alive connection was closed mid-run and its
        // replacement's accept and close are in the count.
        connections: sockets.size,
        seconds: (Date.now() - started) / 1000
      }
      log(`instructions ${scenario.name} ${impl.name}: ${(irPerRequest / 1000).toFixed(1)}k/req ` +
        `(windows ${perWindow.map((v) => (v / 1000).toFixed(1)).join(', ')}k; ` +
        `${sockets.size} connection${sockets.size === 1 ? '' : 's'}; ${result.seconds.toFixed(0)} s)`)
      return result
    } finally {
      agent.destroy()
    }
  } finally {
    await server.stop()
  }
}

function implementationsFor (filter) {
  const all = [...implementations, floor]
  if (!filter) return all
  const wanted = filter.split(',').map((name) => name.trim()).filter(Boolean)
  const unknown = wanted.filter((name) => !all.some((i) => i.name === name))
  if (unknown.length) throw new Error(`unknown implementation(s) in BENCH_INSTR_IMPLS: ${unknown.join(', ')}`)
  return all.filter((i) => wanted.includes(i.name))
}

/** Runs every scenario for every implementation and summarizes against the floor. */
async function runInstructions (settings, log) {
  for (const tool of ['valgrind', 'callgrind_control']) {
    if (!which(tool)) throw new Error(`the instruction benchmark needs ${tool} (apt-get install valgrind)`)
  }
  const scenarios = scenariosFor('http', settings.scenarios, [BARE])
  const impls = implementationsFor(settings.implementations)
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-instructions-'))
  const measured = []
  try {
    for (const scenario of scenarios) {
      // The app without sessions is the same app for all: measured once.
      for (const impl of scenario.session ? impls : [floor]) {
        measured.push(await measure(impl, scenario, outDir, settings, log))
      }
    }
  } finally {
    if (settings.keep) log(`callgrind dumps kept in ${outDir}`)
    else fs.rmSync(outDir, { recursive: true, force: true })
  }

  const find = (scenario, impl) => measured.find((m) => m.scenario === scenario && m.implementation === impl)
  const bare = find(BARE, FLOOR)
  const rows = scenarios.filter((s) => s.session).map((s) => {
    const theirs = find(s.name, THEIRS)
    const ours = find(s.name, OURS)
    const atFloor = find(s.name, FLOOR)
    const value = (m) => m ? m.irPerRequest : NaN
    const beyond = (m) => m && atFloor ? m.irPerRequest - atFloor.irPerRequest : NaN
    return {
      scenario: s.name,
      stores: Object.fromEntries([theirs, atFloor, ours].filter(Boolean).map((m) => [m.implementation, m.store])),
      theirs: value(theirs),
      floor: value(atFloor),
      ours: value(ours),
      theirsBeyondFloor: beyond(theirs),
      oursBeyondFloor: beyond(ours),
      // Ours's cost beyond the floor over express-session's: below 1, ours adds less.
      ratio: ratio(beyond(ours), beyond(theirs))
    }
  })

  return {
    settings: {
      requestsPerWindow: settings.requests,
      windows: settings.windows,
      warmupRequests: settings.warmup,
      settleRequests: settings.settle
    },
    bareIrPerRequest: bare ? bare.irPerRequest : null,
    rows,
    measured
  }
}

const k = (v) => Number.isFinite(v) ? (v / 1000).toFixed(1) : '—'

function table (results) {
  const s = results.settings
  const spreads = results.measured.map((m) => m.spread)
  return {
    title: 'Instructions per request, thousands (callgrind, node --single-threaded, ' +
      `${s.windows} × ${s.requestsPerWindow} sequential keep-alive requests after ${s.warmupRequests} warm-up ` +
      `and ${s.settleRequests} instrumented, not counted; ` +
      `bare Express ${k(results.bareIrPerRequest)}k; largest spread between windows ${(100 * Math.max(...spreads)).toFixed(1)} %)`,
    header: ['scenario', THEIRS, FLOOR, 'ours', `beyond floor: ${THEIRS}`, 'beyond floor: ours', 'ours/theirs beyond floor'],
    rows: results.rows.map((r) => [
      r.scenario,
      k(r.theirs),
      k(r.floor),
      k(r.ours),
      k(r.theirsBeyondFloor),
      k(r.oursBeyondFloor),
      r.ratio === null ? '—' : r.ratio.toFixed(2)
    ])
  }
}

function renderMarkdown (t) {
  const row = (cells) => `| ${cells.join(' | ')} |`
  return [`### ${t.title}`, '', row(t.header), row(t.header.map((_, i) => i === 0 ? ':--' : '--:')), ...t.rows.map(row)].join('\n')
}

function packageVersion (dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version
}

function meta () {
  const addon = fs.readdirSync(ROOT).find((f) => f.endsWith('.node'))
  const stat = addon && fs.statSync(path.join(ROOT, addon))
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' })
  const valgrind = spawnSync('valgrind', ['--version'], { encoding: 'utf8' })
  const cpus = os.cpus()
  return {
    date: new Date().toISOString(),
    commit: git.status === 0 ? git.stdout.trim() : 'unknown',
    node: process.versions.node,
    valgrind: valgrind.status === 0 ? valgrind.stdout.trim() : 'unknown',
    cpuModel: cpus.length ? cpus[0].model : 'unknown',
    versions: {
      [THEIRS]: packageVersion(implementations[0].root || path.dirname(require.resolve('express-session/package.json'))),
      [OURS]: packageVersion(ROOT)
    },
    addon: addon ? `${addon}, ${(stat.size / 1048576).toFixed(1)} MB, built ${stat.mtime.toISOString()}` : 'not found'
  }
}

function metaLine (m) {
  return `${m.date}, commit ${m.commit}, Node.js ${m.node}, ${m.valgrind} (${m.cpuModel}); ` +
    `${THEIRS} ${m.versions[THEIRS]}, ${OURS} ${m.versions[OURS]} (addon ${m.addon})`
}

/** Runs the benchmark, prints the table, writes bench/results/instructions.{json,md}. */
async function main (log) {
  const started = Date.now()
  const settings = readSettings()
  const results = { meta: meta() }
  results.meta.settings = settings
  results.instructions = await runInstructions(settings, log)
  results.meta.seconds = Math.round((Date.now() - started) / 1000)

  const t = table(results.instructions)
  process.stdout.write(`${metaLine(results.meta)}\n\n${renderText(t)}\n`)
  fs.mkdirSync(RESULTS, { recursive: true })
  fs.writeFileSync(path.join(RESULTS, 'instructions.json'), JSON.stringify(results, null, 2) + '\n')
  fs.writeFileSync(path.join(RESULTS, 'instructions.md'),
    `## Instructions per request\n\n${metaLine(results.meta)}  \n\n${renderMarkdown(t)}\n`)
  log(`\n${results.meta.seconds} s; written: ${path.relative(process.cwd(), path.join(RESULTS, 'instructions.json'))}, ` +
    `${path.relative(process.cwd(), path.join(RESULTS, 'instructions.md'))}`)
}

module.exports = { main, runInstructions }

if (require.main === module) {
  main((line) => process.stderr.write(`${line}\n`)).catch((err) => {
    console.error(`\nBENCHMARK FAILED: ${err.stack || err}`)
    process.exit(1)
  })
}
