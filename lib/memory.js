'use strict'

// The default store: sessions kept natively as JSON text, with express-session's
// MemoryStore API and callback contract (callbacks always run on a later tick).
// Expired sessions are swept by an unref'd timer in bounded batches, so memory
// follows the live sessions and the timer never keeps the process alive.

const util = require('util')
const Store = require('./store')
const native = require('./native')
const { jsonOf } = require('./serialized')
const { cookieJson } = require('./session-json')
const Cookie = require('./cookie')

const DEFAULT_SWEEP_INTERVAL = 60 * 1000
const SWEEP_BATCH = 10000

const kSessions = Symbol('express-session-rs.sessions')

const defer = setImmediate

/**
 * @param {object} [options]
 * @param {number} [options.max] most sessions kept; the least recently written go first
 * @param {number} [options.sweepInterval=60000] ms between sweeps of expired sessions
 */
function MemoryStore (options) {
  Store.call(this)
  const opts = options || {}

  if (opts.max !== undefined && !(Number.isInteger(opts.max) && opts.max > 0)) {
    throw new TypeError('max option must be a positive integer')
  }

  const sessions = new native.NativeMemoryStore(opts.max)
  Object.defineProperty(this, kSessions, { value: sessions })
  startSweeping(sessions, opts.sweepInterval || DEFAULT_SWEEP_INTERVAL)
}

util.inherits(MemoryStore, Store)

MemoryStore.prototype.get = function get (sessionId, callback) {
  let sess
  try {
    const json = this[kSessions].get(String(sessionId), Date.now())
    sess = json === null ? undefined : JSON.parse(json)
  } catch (err) {
    defer(callback, err)
    return
  }
  defer(callback, null, sess)
}

MemoryStore.prototype.set = function set (sessionId, session, callback) {
  try {
    writeNow(this, sessionId, session, jsonOf(session))
  } catch (err) {
    if (callback) defer(callback, err)
    return
  }
  if (callback) defer(callback)
}

MemoryStore.prototype.touch = function touch (sessionId, session, callback) {
  try {
    touchNow(this, sessionId, session)
  } catch (err) {
    if (callback) defer(callback, err)
    return
  }
  if (callback) defer(callback)
}

MemoryStore.prototype.destroy = function destroy (sessionId, callback) {
  this[kSessions].destroy(String(sessionId))
  if (callback) defer(callback)
}

MemoryStore.prototype.clear = function clear (callback) {
  this[kSessions].clear()
  if (callback) defer(callback)
}

MemoryStore.prototype.length = function length (callback) {
  const count = this[kSessions].length(Date.now())
  defer(callback, null, count)
}

MemoryStore.prototype.all = function all (callback) {
  let sessions
  try {
    sessions = Object.setPrototypeOf(JSON.parse(this[kSessions].allJson(Date.now())), null)
  } catch (err) {
    if (callback) defer(callback, err)
    return
  }
  if (callback) defer(callback, null, sessions)
}

// The synchronous cores of set and touch; the middleware calls them directly
// when the store's methods are the native ones, so a response ends at once.
function writeNow (store, sessionId, session, json) {
  store[kSessions].set(String(sessionId), json, expiryOf(session))
}

// `storedCookie`: the cookie as the store held it when the session was loaded,
// parsed. When nothing in it but the expiry differs, the store changes the
// expiry in place instead of taking the whole cookie again.
function touchNow (store, sessionId, session, storedCookie) {
  const sessions = store[kSessions]
  const cookie = session && session.cookie
  if (storedCookie && onlyExpiryDiffers(cookie, storedCookie)) {
    const expires = cookie._expires.getTime()
    if (sessions.touchExpires(String(sessionId), expires, Date.now())) return
  }
  const json = session && cookieJson(cookie)
  if (json !== undefined) {
    sessions.touch(String(sessionId), json, expiryOf(session), Date.now())
  }
}

// Cookie#data's fields, in its order.
const COOKIE_FIELDS = ['originalMaxAge', 'partitioned', 'priority', 'expires', 'secure',
  'httpOnly', 'domain', 'path', 'sameSite']

// Whether `cookie` (a Cookie) would be stored as `stored` but for `expires`:
// the same fields in the same order with the same values.
function onlyExpiryDiffers (cookie, stored) {
  let field = 0
  for (const key in stored) {
    while (field < COOKIE_FIELDS.length && COOKIE_FIELDS[field] !== key) field++
    if (field++ === COOKIE_FIELDS.length) return false
  }
  return cookie instanceof Cookie &&
    cookie._expires instanceof Date &&
    typeof stored.expires === 'string' &&
    cookie.originalMaxAge === stored.originalMaxAge &&
    cookie.partitioned === stored.partitioned &&
    cookie.priority === stored.priority &&
    cookie.secure === stored.secure &&
    cookie.httpOnly === stored.httpOnly &&
    cookie.domain === stored.domain &&
    cookie.path === stored.path &&
    cookie.sameSite === stored.sameSite
}

/** When the session's cookie expires, in ms since the epoch; NaN for never. */
function expiryOf (session) {
  const expires = session && session.cookie && session.cookie.expires
  if (!expires) return NaN
  if (typeof expires === 'number') return expires
  if (expires instanceof Date) return expires.getTime()
  return new Date(expires).getTime()
}

// The timer holds the store weakly: a store nobody uses any more is collected,
// and its timer stops with it.
function startSweeping (sessions, interval) {
  const ref = new WeakRef(sessions)
  const timer = setInterval(sweep, interval)
  timer.unref()

  function sweep () {
    const target = ref.deref()
    if (!target) {
      clearInterval(timer)
      return
    }
    if (target.sweep(Date.now(), SWEEP_BATCH) === SWEEP_BATCH) {
      // More are due: go on after other work has had its turn.
      defer(sweep).unref()
    }
  }
}

module.exports = MemoryStore
module.exports.kSessions = kSessions
module.exports.writeNow = writeNow
module.exports.touchNow = touchNow

/** Whether `store` is a MemoryStore whose `method` nobody replaced. */
module.exports.hasNative = function hasNative (store, method) {
  return store instanceof MemoryStore && store[method] === MemoryStore.prototype[method]
}
