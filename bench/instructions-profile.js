'use strict'

// Where the instructions of a callgrind dump of instructions.js go, with the
// JIT code named: run the benchmark with BENCH_INSTR_PROFILE=1 (node gets
// --perf-basic-prof and the dumps are kept, each with its perf map beside it),
// then
//
//   node bench/instructions-profile.js DUMP [BASELINE_DUMP] [--requests N] [--top N]
//
// Costs are per request (N: the window's requests, BENCH_INSTR_REQUESTS's
// default). Each function's cost is its own instructions plus, for JS code,
// a share of the V8 runtime, builtins and native code it calls, up to
// the nearest JS function (IC misses, allocation, GC, napi calls), so a JS
// function carries the engine work it causes. With a baseline (the floor's dump of the
// same scenario, say), the table is the difference, largest first. With
// `--explain TEXT`, the functions whose label holds TEXT are broken down into
// their own code and the native functions they call.

const fs = require('fs')

const JS_NAME = /^(?:JS|LazyCompile|Function):\s*[*^~+-]?(.*)$/

/** The dump's functions: own cost, and the calls each makes (inclusive cost per callee). */
function parseDump (file) {
  const names = new Map()
  const self = new Map()
  const calls = new Map()
  let fn = null
  let callee = null
  let pendingCall = false
  const named = (spec) => {
    const m = /^\((\d+)\)(?:\s+(.*))?$/.exec(spec)
    if (!m) return spec
    if (m[2] !== undefined) names.set(m[1], m[2])
    return names.get(m[1])
  }
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) {
      fn = named(line.slice(3))
      continue
    }
    if (line.startsWith('cfn=')) {
      callee = named(line.slice(4))
      continue
    }
    if (line.startsWith('calls=')) {
      pendingCall = true
      continue
    }
    const c = line.charCodeAt(0)
    // Cost lines start with a position: a digit, '+', '-' or '*'.
    if (!(c >= 48 && c <= 57) && c !== 43 && c !== 45 && c !== 42) continue
    const cost = Number(line.split(' ')[1])
    if (!Number.isFinite(cost) || fn === null) continue
    if (pendingCall) {
      pendingCall = false
      let out = calls.get(fn)
      if (!out) calls.set(fn, (out = new Map()))
      out.set(callee, (out.get(callee) || 0) + cost)
    } else {
      self.set(fn, (self.get(fn) || 0) + cost)
    }
  }
  return { self, calls }
}

/** perf map: sorted [start, end, name] of the JIT code. */
function readPerfMap (file) {
  if (!fs.existsSync(file)) return []
  const ranges = []
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/i.exec(line)
    if (m) {
      const start = parseInt(m[1], 16)
      ranges.push([start, start + parseInt(m[2], 16), m[3]])
    }
  }
  return ranges.sort((a, b) => a[0] - b[0])
}

function lookup (ranges, address) {
  let lo = 0
  let hi = ranges.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (ranges[mid][0] <= address) lo = mid + 1
    else hi = mid - 1
  }
  const r = ranges[hi]
  return r && address < r[1] ? r[2] : null
}

/** A function's label: JS code by name and place, the rest as callgrind names it. */
function labeler (ranges) {
  const cache = new Map()
  return (name) => {
    let label = cache.get(name)
    if (label !== undefined) return label
    // With --separate-callers, `fn'caller'caller...`; `'N` marks a recursion depth.
    const own = name.split("'")[0]
    label = own
    if (/^0x[0-9a-f]+$/i.test(own)) {
      const jit = lookup(ranges, parseInt(own, 16))
      // Not JIT code: native code whose symbols were stripped (a release addon).
      label = jit === null ? '(code without symbols)' : jit
    }
    const js = JS_NAME.exec(label)
    if (js) label = 'JS ' + js[1].replace(/(file:\/\/)?\/[^ ]*\/(node_modules\/|lib\/|bench\/|index\.js)/, '$2')
    cache.set(name, label)
    return label
  }
}

const isJs = (label) => label.startsWith('JS ')

/**
 * Cost per label: each function's own instructions, those of native code
 * (the V8 runtime, builtins, GC, the addon) handed up to the JS functions that
 * call it, in proportion to what each call costs, through native callers up
 * to the nearest JS. Native code no JS calls (the event loop, the HTTP
 * parser) keeps its own. Every instruction is counted once.
 */
function attribute (dump, label) {
  const callers = new Map()
  for (const [fn, out] of dump.calls) {
    for (const [callee, inclusive] of out) {
      if (callee === fn || inclusive <= 0) continue
      let into = callers.get(callee)
      if (!into) callers.set(callee, (into = new Map()))
      into.set(fn, (into.get(fn) || 0) + inclusive)
    }
  }
  // For a native function: the share of its cost each JS label (or a root) carries.
  const shares = new Map()
  const shareOf = (fn, visiting) => {
    if (shares.has(fn)) return shares.get(fn)
    const own = new Map([[label(fn), 1]])
    const into = callers.get(fn)
    if (!into || visiting.has(fn)) return own
    visiting.add(fn)
    const total = [...into.values()].reduce((a, b) => a + b, 0)
    const result = new Map()
    for (const [caller, inclusive] of into) {
      const weight = inclusive / total
      const l = label(caller)
      const up = isJs(l) ? new Map([[l, 1]]) : shareOf(caller, visiting)
      for (const [key, part] of up) result.set(key, (result.get(key) || 0) + weight * part)
    }
    visiting.delete(fn)
    shares.set(fn, result)
    return result
  }
  const cost = new Map()
  // What each label's cost is made of: its own code and each native function's share.
  const parts = new Map()
  const add = (key, from, value) => {
    cost.set(key, (cost.get(key) || 0) + value)
    let made = parts.get(key)
    if (!made) parts.set(key, (made = new Map()))
    made.set(from, (made.get(from) || 0) + value)
  }
  for (const [fn, own] of dump.self) {
    const l = label(fn)
    if (isJs(l)) {
      add(l, '(own code)', own)
      continue
    }
    for (const [key, part] of shareOf(fn, new Set())) add(key, l, own * part)
  }
  return { cost, parts }
}

function load (file) {
  if (!file) return { cost: new Map(), parts: new Map() }
  return attribute(parseDump(file), labeler(readPerfMap(`${file.replace(/\.\d+$/, '')}.map`)))
}

function main (argv) {
  const files = []
  let requests = Number(process.env.BENCH_INSTR_REQUESTS) || 2000
  let top = 60
  let explain = null
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--requests') requests = Number(argv[++i])
    else if (argv[i] === '--top') top = Number(argv[++i])
    else if (argv[i] === '--explain') explain = argv[++i]
    else files.push(argv[i])
  }
  if (files.length === 0 || files.length > 2) {
    console.error('usage: node bench/instructions-profile.js DUMP [BASELINE_DUMP] [--requests N] [--top N] [--explain TEXT]')
    process.exit(2)
  }
  const { cost, parts } = load(files[0])
  const base = load(files[1]).cost
  const keys = new Set([...cost.keys(), ...base.keys()])
  const rows = [...keys].map((key) => [key, ((cost.get(key) || 0) - (base.get(key) || 0)) / requests])
  rows.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
  const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0) / requests
  const byFile = new Map()
  for (const [key, value] of rows) {
    const m = /^JS .*? (\S+):\d+:\d+$/.exec(key)
    const file = m ? m[1] : isJs(key) ? '(JIT)' : '(native, not below JS)'
    byFile.set(file, (byFile.get(file) || 0) + value)
  }
  const fmt = (v) => v.toFixed(0).padStart(8)
  console.log(`instructions per request: ${fmt(sum(cost))}${files[1] ? `, baseline ${fmt(sum(base))}, difference ${fmt(sum(cost) - sum(base))}` : ''}`)
  console.log('\nby file')
  for (const [file, value] of [...byFile].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, 30)) console.log(`${fmt(value)}  ${file}`)
  console.log('\nby function')
  for (const [key, value] of rows.slice(0, top)) console.log(`${fmt(value)}  ${key}`)
  // --explain: what the matching functions of DUMP are made of.
  if (explain === null) return
  for (const [key, made] of parts) {
    if (!key.includes(explain)) continue
    console.log(`\n${fmt(cost.get(key) / requests)}  ${key}`)
    const pieces = [...made].sort((a, b) => b[1] - a[1]).slice(0, top)
    for (const [from, value] of pieces) console.log(`  ${fmt(value / requests)}  ${from.slice(0, 140)}`)
  }
}

if (require.main === module) main(process.argv.slice(2))

module.exports = { parseDump, readPerfMap, attribute }
