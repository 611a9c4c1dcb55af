'use strict'

// Shared by the tests: real HTTP servers and a small client that keeps the raw
// Set-Cookie headers, so assertions are about what goes over the wire.

const http = require('node:http')
const net = require('node:net')
const express = require('express')

process.env.NO_DEPRECATION = 'express-session'

/** Starts `app` on a loopback port; resolves to { url, close }. */
function listen (app) {
  return new Promise((resolve) => {
    const server = http.createServer(app)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      resolve({
        url: `http://127.0.0.1:${port}`,
        server,
        close: () => new Promise((resolve) => server.close(resolve))
      })
    })
  })
}

/**
 * An Express app with `middleware` in front of `handler`; errors become 500s
 * with the message. `expressModule`: Express 4 unless given (Express 5 is the
 * dev dependency `express5`).
 */
function appWith (middleware, handler, expressModule = express) {
  const app = expressModule()
  app.use(middleware)
  app.use(handler)
  app.use((err, req, res, next) => {
    res.status(err.status || 500).send('error: ' + err.message)
  })
  return app
}

/** GET (or another method) with optional headers; resolves to { status, body, setCookie[] }. */
function send (url, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({
        status: res.statusCode,
        body,
        headers: res.headers,
        setCookie: res.headers['set-cookie'] || []
      }))
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * A request written byte for byte on a socket, for headers Node's client will
 * not send (control characters, raw non-ASCII). `cookie` is written as latin1.
 * Resolves to { status, body }.
 */
function sendRaw (url, { path = '/', cookie }) {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.end(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`, 'latin1'))
    })
    const chunks = []
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      resolve({ status: Number(text.slice(9, 12)), body: text.slice(split + 4) })
    })
  })
}

/** Splits a Set-Cookie header into { name, value, attributes: { lowercased name: value|true } }. */
function parseSetCookie (header) {
  const [pair, ...rest] = header.split(/;\s*/)
  const eq = pair.indexOf('=')
  const attributes = {}
  for (const part of rest) {
    const i = part.indexOf('=')
    if (i === -1) attributes[part.toLowerCase()] = true
    else attributes[part.slice(0, i).toLowerCase()] = part.slice(i + 1)
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes }
}

/** The `name=value` pair to send back, from a response's first Set-Cookie. */
function cookiePair (response) {
  const header = response.setCookie[0]
  return header ? header.split(';')[0] : undefined
}

function storeCall (store, method, ...args) {
  return new Promise((resolve, reject) => {
    store[method](...args, (err, value) => (err ? reject(err) : resolve(value)))
  })
}

/**
 * Named gates for forcing an interleaving: a request calls `gate(tag).arrive()`
 * and waits on `gate(tag).released`; the test awaits `gate(tag).reached`, does
 * what must come first, then calls `gate(tag).release()`.
 */
function gates () {
  const all = new Map()
  return function gate (tag) {
    if (!all.has(tag)) {
      const g = {}
      g.reached = new Promise((resolve) => { g.arrive = resolve })
      g.released = new Promise((resolve) => { g.release = resolve })
      all.set(tag, g)
    }
    return all.get(tag)
  }
}

/** Holds a request at the gate `tag` until the test releases it. */
async function holdAt (gate, tag) {
  const g = gate(tag)
  g.arrive()
  await g.released
}

// The Express major versions the flow tests run on.
const EXPRESS_VERSIONS = [['Express 4', express], ['Express 5', require('express5')]]

module.exports = { listen, appWith, send, sendRaw, parseSetCookie, cookiePair, storeCall, gates, holdAt, EXPRESS_VERSIONS }
