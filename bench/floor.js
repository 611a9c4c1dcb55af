'use strict'

// The API-shape floor: the least any middleware with express-session's API must
// do on Express, and nothing else. It puts `req.session`, `req.sessionID` and
// `req.sessionStore` on the request, hooks the response headers (on-headers)
// and wraps `res.end`. Its "store" is what the scenario needs at the least:
// a Map for the memory scenarios, and for Redis one `GET` (and for a write one
// `SET`) over a bare RESP connection on the main thread, with the JSON parsed
// and written by V8. It neither signs nor parses cookies beyond finding its
// own, and sets a cookie only when it creates a session: a lower bound, not a
// session middleware. It runs in the benchmarks beside the two implementations,
// so what each costs beyond it is measured in the same run.

const crypto = require('crypto')
const net = require('net')
const onHeaders = require('on-headers')

const COOKIE = 'connect.sid='

// The session ID the request's cookie carries, unsigned and unchecked.
function cookieId (req) {
  const header = req.headers.cookie
  if (header === undefined) return undefined
  const at = header.indexOf(COOKIE)
  if (at === -1) return undefined
  const end = header.indexOf(';', at)
  return header.slice(at + COOKIE.length, end === -1 ? undefined : end)
}

/** The floor's middleware for the scenario's options (`store` from below). */
function floorSession (options) {
  const store = options.store
  const saveUninitialized = Boolean(options.saveUninitialized)
  const ttl = Math.ceil(options.cookie.maxAge / 1000)

  return function floor (req, res, next) {
    req.sessionStore = store
    req.sessionID = cookieId(req)
    req.session = undefined
    let created = false
    let loadedCount
    onHeaders(res, function () {
      if (created) this.setHeader('Set-Cookie', COOKIE + req.sessionID + '; Path=/; HttpOnly')
    })
    const end = res.end
    res.end = function (chunk, encoding) {
      const session = req.session
      if (session === undefined || !(created || session.count !== loadedCount)) {
        return end.call(res, chunk, encoding)
      }
      store.set(req.sessionID, session, ttl, () => end.call(res, chunk, encoding))
      return true
    }
    const start = () => {
      created = true
      req.sessionID = crypto.randomBytes(18).toString('base64url')
      req.session = {}
    }
    if (req.sessionID === undefined) {
      // The seeding request always creates; other new visitors as configured.
      if (saveUninitialized || req.path === '/seed') start()
      return next()
    }
    store.get(req.sessionID, (err, session) => {
      if (err) return next(err)
      if (session === null) start()
      else req.session = session
      loadedCount = req.session.count
      next()
    })
  }
}

// Sessions as objects in a Map: a lower bound for any store.
function mapStore () {
  const sessions = new Map()
  return {
    get (sid, callback) {
      callback(null, sessions.get(sid) || null)
    },
    set (sid, session, ttl, callback) {
      sessions.set(sid, session)
      callback()
    },
    destroy (sid, callback) {
      sessions.delete(sid)
      callback()
    },
    close () {}
  }
}

// Sessions in Redis over one RESP connection: commands written as they come,
// replies matched in order. Only what the floor sends is parsed (bulk strings,
// `+OK`, errors).
function redisStore (url, prefix) {
  const { hostname, port } = new URL(url)
  const socket = net.connect(Number(port) || 6379, hostname || '127.0.0.1')
  socket.setNoDelay(true)
  const waiting = []
  let buffer = Buffer.alloc(0)

  socket.on('data', (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
    let at = 0
    while (at < buffer.length) {
      const lineEnd = buffer.indexOf('\r\n', at)
      if (lineEnd === -1) break
      const type = buffer[at]
      if (type === 0x24) { // $ bulk string
        const length = Number(buffer.toString('latin1', at + 1, lineEnd))
        if (length === -1) {
          at = lineEnd + 2
          waiting.shift()(null, null)
          continue
        }
        if (buffer.length < lineEnd + 2 + length + 2) break
        const text = buffer.toString('utf8', lineEnd + 2, lineEnd + 2 + length)
        at = lineEnd + 2 + length + 2
        waiting.shift()(null, text)
      } else {
        const line = buffer.toString('utf8', at + 1, lineEnd)
        at = lineEnd + 2
        waiting.shift()(type === 0x2d ? new Error(line) : null, line)
      }
    }
    buffer = at === buffer.length ? Buffer.alloc(0) : buffer.subarray(at)
  })
  socket.on('error', (err) => {
    for (const callback of waiting.splice(0)) callback(err)
  })

  function send (args, callback) {
    let command = '*' + args.length + '\r\n'
    for (const arg of args) command += '$' + Buffer.byteLength(arg) + '\r\n' + arg + '\r\n'
    waiting.push(callback)
    socket.write(command)
  }

  return {
    get (sid, callback) {
      send(['GET', prefix + sid], (err, text) => {
        if (err) return callback(err)
        callback(null, text === null ? null : JSON.parse(text))
      })
    },
    set (sid, session, ttl, callback) {
      send(['SET', prefix + sid, JSON.stringify(session), 'EX', String(ttl)], callback)
    },
    destroy (sid, callback) {
      send(['DEL', prefix + sid], callback)
    },
    close () {
      socket.end()
    }
  }
}

module.exports = { floorSession, mapStore, redisStore }
