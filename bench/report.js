'use strict'

// Turns the results into tables: aligned text for the terminal and Markdown for
// bench/results/latest.md. Every table is built once as a title, a header and
// rows of strings, then rendered either way.

const { OURS, THEIRS } = require('./implementations')

const fixed = (digits) => (v) => Number.isFinite(v) ? v.toFixed(digits) : '—'
const times = (v) => Number.isFinite(v) ? `${v.toFixed(2)}×` : '—'
const mb = (bytes) => Number.isFinite(bytes) ? (bytes / 1048576).toFixed(1) : '—'

function httpTable (http) {
  const s = http.settings
  return {
    title: `HTTP (${s.rounds} rounds × ${s.durationSeconds} s, ${s.connections} connections, ` +
      `${s.pinned ? 'server on CPU 0, load on CPU 1' : 'NOT pinned to CPUs'}; ` +
      `ceiling ${fixed(1)(http.ceilingUsPerReq)} µs CPU/req)`,
    left: 3,
    header: ['scenario', 'implementation', 'store', 'req/s', 'p99 ms', 'CPU µs/req', 'overhead µs/req',
      'req/s ours/theirs', 'overhead theirs/ours', 'CPU ours/theirs', 'CPU ours/floor'],
    rows: http.rows.map((r) => [
      r.scenario,
      r.implementation,
      r.store || '',
      fixed(0)(r.reqPerSec),
      fixed(2)(r.p99Ms),
      fixed(1)(r.cpuUsPerReq),
      r.overheadUsPerReq === null ? '' : fixed(1)(r.overheadUsPerReq),
      r.implementation === OURS ? times(r.reqPerSecRatio) : '',
      r.implementation === OURS && r.overheadUsPerReq !== null ? times(r.overheadRatio) : '',
      // Not for the ceiling itself, which both serve without a session.
      r.implementation === OURS && (r.overheadUsPerReq !== null || r.floorRatio != null) ? fixed(2)(r.cpuRatio) : '',
      r.implementation === OURS && r.floorRatio != null ? fixed(2)(r.floorRatio) : ''
    ])
  }
}

function inProcessTable (inProcess) {
  const s = inProcess.settings
  return {
    title: `In-process (${s.rounds} rounds × ${s.durationSeconds} s after ${s.warmupRequests} warm-up requests; median ns per request)`,
    header: ['scenario', `${THEIRS} ns/req`, `${OURS} ns/req`, 'theirs/ours'],
    rows: inProcess.rows.map((r) => [
      r.scenario,
      fixed(0)(r.theirsNsPerRequest),
      fixed(0)(r.oursNsPerRequest),
      times(r.ratio)
    ])
  }
}

function memoryTable (memory) {
  const fill = Object.entries(memory.fillUsPerSession)
    .map(([name, us]) => `${name} ${us.toFixed(2)} µs`).join(', ')
  return {
    title: `Memory (${memory.settings.sessions} sessions of ${memory.sessionJsonBytes} bytes of JSON, default options; ` +
      `MB; loaded: after ${memory.settings.settleMs / 1000} s idle; expired: filled through callbacks, ` +
      `measured ${memory.settings.afterExpiryMs / 1000} s after expiry; fill per session: ${fill}; ` +
      `RSS given back after expiry: ${Object.entries(memory.givenBack || {}).map(([name, share]) => `${name} ${(share * 100).toFixed(0)} %`).join(', ')})`,
    header: ['stage', `${THEIRS} RSS`, `${OURS} RSS`, 'theirs/ours', `${THEIRS} heapUsed`, `${OURS} heapUsed`, 'theirs/ours'],
    rows: memory.rows.map((r) => [
      r.stage,
      mb(r.theirsRss),
      mb(r.oursRss),
      times(r.rssRatio),
      mb(r.theirsHeapUsed),
      mb(r.oursHeapUsed),
      times(r.heapUsedRatio)
    ])
  }
}

/** The tables for whatever parts ran. */
function tables (results) {
  const out = []
  if (results.http) out.push(httpTable(results.http))
  if (results.inProcess) out.push(inProcessTable(results.inProcess))
  if (results.memory) out.push(memoryTable(results.memory))
  return out
}

// Text columns: the first `left` (names) left-aligned, numbers right-aligned.
function renderText (table) {
  const all = [table.header, ...table.rows]
  const widths = table.header.map((_, i) => Math.max(...all.map((row) => row[i].length)))
  const line = (row) => row.map((cell, i) => i < (table.left || 1)
    ? cell.padEnd(widths[i])
    : cell.padStart(widths[i])).join('  ').trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  return [table.title, '', line(table.header), rule, ...table.rows.map(line)].join('\n')
}

function renderMarkdown (table) {
  const row = (cells) => `| ${cells.join(' | ')} |`
  const align = table.header.map((_, i) => i < (table.left || 1) ? ':--' : '--:')
  return [`### ${table.title}`, '', row(table.header), row(align), ...table.rows.map(row)].join('\n')
}

function metaLines (meta) {
  const lines = [
    `${meta.date}, Node.js ${meta.node}, ${meta.cpus} CPUs (${meta.cpuModel})`,
    `${THEIRS} ${meta.versions[THEIRS]}, ${OURS} ${meta.versions[OURS]} (addon ${meta.addon})`
  ]
  if (meta.addonChangedDuringRun) {
    lines.push(`WARNING: the addon was rebuilt during the run (now ${meta.addonChangedDuringRun}): results mix builds`)
  }
  return lines
}

function text (results) {
  return [...metaLines(results.meta), ...tables(results).map((t) => '\n' + renderText(t))].join('\n') + '\n'
}

function markdown (results) {
  return [
    '## express-session vs express-session-rs',
    '',
    ...metaLines(results.meta).map((l) => `${l}  `),
    ...tables(results).map((t) => '\n' + renderMarkdown(t))
  ].join('\n') + '\n'
}

module.exports = { text, markdown, tables, renderText }
