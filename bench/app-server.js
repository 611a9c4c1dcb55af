'use strict'

// The app under test as a process of its own (http-server.js), driven over
// IPC, and the requests every benchmark sends it first: the seeding request of
// a returning visitor and a probe that checks the answer looks as the scenario
// says. Shared by the HTTP benchmark (http.js) and the instruction count
// (instructions.js), which differ only in what the server runs under.

const http = require('http')
const path = require('path')
const { spawn } = require('child_process')
const { floor } = require('./implementations')

const SERVER = path.join(__dirname, 'http-server.js')

/**
 * Starts the app for (impl, scenario), `node` run through `wrapper` (a command
 * line prefix such as `taskset -c 0`, or valgrind's) with `nodeArgs`;
 * resolves once it listens, to { port, ask(type), stop(), pid, label, ... }.
 */
function startServer (impl, scenario, { wrapper = [], nodeArgs = [] } = {}) {
  const command = [...wrapper, process.execPath, ...nodeArgs, SERVER]
  const child = spawn(command[0], command.slice(1), {
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
  child.on('error', (err) => fail(new Error(`${label}: could not start ${command[0]}: ${err.message}`)))
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
    // A wrapper that execs node (taskset, valgrind) keeps this pid: node's.
    pid: child.pid,
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

/** One request: status, headers, body and socket; `agent: false` is a connection of its own. */
function get (port, urlPath, cookie, agent = false) {
  return new Promise((resolve, reject) => {
    const headers = cookie ? { cookie } : {}
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body, socket: req.socket }))
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

module.exports = { startServer, get, seed, probe }
