'use strict'

// Entry point of `npm run bench [-- http|inprocess|memory|instructions ...]`:
// reads the settings, pins itself to CPU 1 (HTTP servers get CPU 0), runs the
// parts, prints the tables and writes bench/results/latest.{json,md}
// (instructions: bench/results/instructions.{json,md}).

const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn, spawnSync } = require('child_process')

const { implementations, THEIRS, OURS } = require('./implementations')

const PARTS = ['http', 'inprocess', 'memory', 'instructions']
// The instruction count (instructions.js) runs under valgrind and takes long:
// only when asked for by name.
const DEFAULT_PARTS = ['http', 'inprocess', 'memory']
const ROOT = path.join(__dirname, '..')
const RESULTS = path.join(__dirname, 'results')

function positive (name, fallback, integer) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`)
  }
  return value
}

function readSettings () {
  return {
    rounds: positive('BENCH_ROUNDS', 3, true),
    duration: positive('BENCH_DURATION', 5),
    connections: positive('BENCH_CONNECTIONS', 50, true),
    warmup: positive('BENCH_WARMUP', 1),
    inProcessDuration: positive('BENCH_INPROCESS_DURATION', 2),
    inProcessWarmup: positive('BENCH_INPROCESS_WARMUP', 20000, true),
    sessions: positive('BENCH_MEMORY_SESSIONS', 1000000, true),
    scenarios: process.env.BENCH_SCENARIOS || '',
    pinned: process.env.BENCH_PINNED === '1',
    // The API-shape floor runs beside the two in the HTTP part (BENCH_FLOOR=0: not).
    floor: process.env.BENCH_FLOOR !== '0'
  }
}

function readParts () {
  const args = process.argv.slice(2).map((a) => a.toLowerCase().replace('-', ''))
  const unknown = args.filter((a) => !PARTS.includes(a))
  if (unknown.length) throw new Error(`unknown part(s): ${unknown.join(', ')}; expected ${PARTS.join(', ')}`)
  return args.length ? PARTS.filter((p) => args.includes(p)) : DEFAULT_PARTS
}

// Pinning needs taskset and both CPU 0 and CPU 1 (BENCH_PIN=0 turns it off).
function canPin () {
  if (process.env.BENCH_PIN === '0' || process.platform !== 'linux') return false
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
  if (cpus < 2) return false
  return spawnSync('taskset', ['-c', '0,1', 'true'], { stdio: 'ignore' }).status === 0
}

/**
 * Runs this script again under `taskset -c 1` (when it can) and with
 * --expose-gc, so runs can start from a collected heap. Returns true when the
 * relaunched process now does the work.
 */
function relaunch () {
  if (process.env.BENCH_LAUNCHED) return false
  const pin = canPin()
  const nodeArgs = ['--expose-gc', __filename, ...process.argv.slice(2)]
  const command = pin ? 'taskset' : process.execPath
  const args = pin ? ['-c', '1', process.execPath, ...nodeArgs] : nodeArgs
  const child = spawn(command, args, {
    stdio: 'inherit',
    env: { ...process.env, BENCH_LAUNCHED: '1', BENCH_PINNED: pin ? '1' : '0' }
  })
  // Ctrl-C reaches the child as well (same process group); it cleans up and exits.
  process.on('SIGINT', () => {})
  child.on('exit', (code, signal) => process.exit(code === null ? 1 : code))
  return true
}

function packageVersion (dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version
}

// Which addon binary was measured: a debug build is far slower than a release one.
function addonDescription () {
  const file = fs.readdirSync(ROOT).find((f) => f.endsWith('.node'))
  if (!file) return 'not found'
  const stat = fs.statSync(path.join(ROOT, file))
  return `${file}, ${(stat.size / 1048576).toFixed(1)} MB, built ${stat.mtime.toISOString()}`
}

function meta () {
  const cpus = os.cpus()
  return {
    date: new Date().toISOString(),
    node: process.versions.node,
    cpus: cpus.length,
    cpuModel: cpus.length ? cpus[0].model : 'unknown',
    versions: {
      [THEIRS]: packageVersion(implementations[0].root || path.dirname(require.resolve('express-session/package.json'))),
      [OURS]: packageVersion(ROOT)
    },
    addon: addonDescription()
  }
}

// Progress goes to stderr; stdout carries only the tables.
function log (line) {
  process.stderr.write(`${line}\n`)
}

async function main () {
  const parts = readParts()
  if (parts.includes('instructions')) {
    await require('./instructions').main(log)
    if (parts.length === 1) return
  }
  const settings = readSettings()
  // Loaded here, after relaunching: the parent process needs none of them.
  const { runHttp } = require('./http')
  const { runInProcess } = require('./in-process')
  const { runMemory } = require('./memory')
  const report = require('./report')

  if (parts.includes('http') && !settings.pinned) {
    log('warning: not pinned to CPUs (needs Linux, taskset and 2 CPUs): HTTP numbers include load-generator contention')
  }

  const results = { meta: meta() }
  results.meta.settings = settings
  if (parts.includes('http')) {
    results.http = await runHttp(settings, log)
  }
  if (parts.includes('inprocess')) {
    results.inProcess = await runInProcess({
      rounds: settings.rounds,
      duration: settings.inProcessDuration,
      warmup: settings.inProcessWarmup,
      scenarios: settings.scenarios
    }, log)
  }
  if (parts.includes('memory')) {
    results.memory = await runMemory({ sessions: settings.sessions }, log)
  }

  // Someone rebuilding the addon mid-run would mix two builds in one report.
  if (addonDescription() !== results.meta.addon) {
    results.meta.addonChangedDuringRun = addonDescription()
    log(`\nWARNING: the addon changed during the run (now ${addonDescription()}): results mix builds`)
  }

  process.stdout.write(report.text(results))
  fs.mkdirSync(RESULTS, { recursive: true })
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify(results, null, 2) + '\n')
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), report.markdown(results))
  log(`\nwritten: ${path.relative(process.cwd(), path.join(RESULTS, 'latest.json'))}, ` +
    `${path.relative(process.cwd(), path.join(RESULTS, 'latest.md'))}`)
}

if (!relaunch()) {
  main().catch((err) => {
    console.error(`\nBENCHMARK FAILED: ${err.stack || err}`)
    process.exit(1)
  })
}
