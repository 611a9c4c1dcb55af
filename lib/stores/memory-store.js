'use strict'

// The default store: sessions kept natively as JSON text, with express-session's
// MemoryStore API and callback contract (callbacks always run on a later tick).
// Expired sessions are swept by an unref'd timer in bounded batches, so memory
// follows the live sessions and the timer never keeps the process alive.

const util = require('util')
const Store = require('../store')
const native = require('../native')
const Cookie = require('../cookie')
const { jsonForStore } = require('../tracking/tracker')
const { cookieJson } = require('../tracking/session-json')
const { kStoreProtocol, SAVE_IF_UNCHANGED } = require('./protocol')

const DEFAULT_SWEEP_INTERVAL = 60 * 1000
const SWEEP_BATCH = 10000

// The native session map (Rust) behind a store.
const kNativeSessions = Symbol('express-session-rs.native-sessions')
// The owner index (userOf): owner -> Set of IDs, checked when read; and the
// middleware's userOf, which tells whether a session is still its owner's.
const kOwners = Symbol('express-session-rs.owners')
const kOwnerOf = Symbol('express-session-rs.owner-of')

// Callbacks run on a later turn of the event loop, as express-session's do.
// Those of one turn share one Immediate and one array: a store filled in a
// loop of a million `set(id, session, callback)` would otherwise leave a
// million Immediates in V8's old generation, held until its next full
// collection, long after the sessions themselves are gone.
let deferred = []

function defer (callback, err, value) {
  if (deferred.length === 0) setImmediate(runDeferred)
  // With the number of arguments, so each callback is called with as many as before.
  deferred.push(callback, arguments.length - 1, err, value)
}

function runDeferred () {
  const batch = deferred
  deferred = []
  for (let i = 0; i < batch.length; i += 4) {
    try {
      const argc = batch[i + 1]
      if (argc === 0) batch[i]()
      else if (argc === 1) batch[i](batch[i + 2])
      else batch[i](batch[i + 2], batch[i + 3])
    } catch (err) {
      // One callback's throw is its own uncaught exception; the rest still run.
      process.nextTick(rethrow, err)
    }
  }
}

function rethrow (err) {
  throw err
}

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
  Object.defineProperty(this, kNativeSessions, { value: sessions })
  startSweeping(sessions, opts.sweepInterval || DEFAULT_SWEEP_INTERVAL)
}

util.inherits(MemoryStore, Store)

MemoryStore.prototype.get = function get (sessionId, callback) {
  let sess
  try {
    const json = this[kNativeSessions].get(String(sessionId), Date.now())
    sess = json === null ? undefined : JSON.parse(json)
  } catch (err) {
    defer(callback, err)
    return
  }
  defer(callback, null, sess)
}

MemoryStore.prototype.set = function set (sessionId, session, callback) {
  try {
    write(this, sessionId, session, jsonForStore(session))
  } catch (err) {
    if (callback) defer(callback, err)
    return
  }
  if (callback) defer(callback)
}

MemoryStore.prototype.touch = function touch (sessionId, session, callback) {
  try {
    moveExpiry(this, sessionId, session)
  } catch (err) {
    if (callback) defer(callback, err)
    return
  }
  if (callback) defer(callback)
}

MemoryStore.prototype.destroy = function destroy (sessionId, callback) {
  this[kNativeSessions].destroy(String(sessionId))
  if (callback) defer(callback)
}

MemoryStore.prototype.clear = function clear (callback) {
  this[kNativeSessions].clear()
  if (callback) defer(callback)
}

MemoryStore.prototype.length = function length (callback) {
  const count = this[kNativeSessions].length(Date.now())
  defer(callback, null, count)
}

MemoryStore.prototype.all = function all (callback) {
  let sessions
  try {
    sessions = Object.setPrototypeOf(JSON.parse(this[kNativeSessions].allJson(Date.now())), null)
  } catch (err) {
    if (callback) defer(callback, err)
    return
  }
  if (callback) defer(callback, null, sessions)
}

/**
 * The live sessions of `owner` (as `userOf` named it), `[{ id, session }]`.
 * Returns a Promise without a callback.
 */
MemoryStore.prototype.sessionsOf = function sessionsOf (owner, callback) {
  let sessions
  try {
    sessions = ownedSessions(this, String(owner))
  } catch (err) {
    return answer(callback, err)
  }
  return answer(callback, null, sessions)
}

/** Destroys every session of `owner` but `options.except`; answers how many. */
MemoryStore.prototype.destroySessionsOf = function destroySessionsOf (owner, options, callback) {
  if (typeof options === 'function') {
    callback = options
    options = undefined
  }
  const except = options && options.except
  let count = 0
  try {
    for (const { id } of ownedSessions(this, String(owner))) {
      if (id === except) continue
      this[kNativeSessions].destroy(id)
      this[kOwners].get(String(owner)).delete(id)
      count++
    }
  } catch (err) {
    return answer(callback, err)
  }
  return answer(callback, null, count)
}

// `owner`'s sessions that still exist and still belong to it; the others
// leave the index.
function ownedSessions (store, owner) {
  const ids = store[kOwners] && store[kOwners].get(owner)
  if (!ids) return []
  const ownerOf = store[kOwnerOf]
  const now = Date.now()
  const live = []
  for (const id of ids) {
    const json = store[kNativeSessions].get(id, now)
    const session = json === null ? null : JSON.parse(json)
    if (session && (!ownerOf || String(ownerOf(session)) === owner)) {
      live.push({ id, session })
    } else {
      ids.delete(id)
    }
  }
  if (ids.size === 0) store[kOwners].delete(owner)
  return live
}

// A later-tick callback, as the store's others; or a Promise without one.
function answer (callback, err, value) {
  if (typeof callback === 'function') {
    defer(callback, err, value)
    return
  }
  return err ? Promise.reject(err) : Promise.resolve(value)
}

// The synchronous cores of set and touch, for the methods and the protocol.
function write (store, sessionId, session, json) {
  store[kNativeSessions].set(String(sessionId), json, Cookie.expiryMillis(session))
}

// `storedCookie`: the cookie as the store held it when the session was loaded,
// parsed. When nothing in it but the expiry differs, the store changes the
// expiry in place instead of taking the whole cookie again.
function moveExpiry (store, sessionId, session, storedCookie) {
  const sessions = store[kNativeSessions]
  const cookie = session && session.cookie
  if (storedCookie && onlyExpiryDiffers(cookie, storedCookie)) {
    const expires = cookie._expires.getTime()
    if (sessions.touchExpires(String(sessionId), expires, Date.now())) return
  }
  const json = session && cookieJson(cookie)
  if (json !== undefined) {
    sessions.touch(String(sessionId), json, Cookie.expiryMillis(session), Date.now())
  }
}

// Whether `cookie` (a Cookie) would be stored as `stored` but for `expires`:
// the same fields in the same order with the same values.
function onlyExpiryDiffers (cookie, stored) {
  if (!(cookie instanceof Cookie) || !(cookie._expires instanceof Date) ||
      typeof stored.expires !== 'string') {
    return false
  }
  let field = 0
  for (const key in stored) {
    while (field < Cookie.STORED_FIELDS.length && Cookie.STORED_FIELDS[field].name !== key) field++
    if (field++ === Cookie.STORED_FIELDS.length) return false
  }
  for (const { name, property } of Cookie.STORED_FIELDS) {
    if (name !== 'expires' && cookie[property] !== stored[name]) return false
  }
  return true
}

// The native-store protocol (see protocol.js): the middleware's calls answer
// synchronously, so a response ends as soon as the session is written.
const nativeProtocol = {
  standsFor: {
    get: MemoryStore.prototype.get,
    set: MemoryStore.prototype.set,
    touch: MemoryStore.prototype.touch,
    destroy: MemoryStore.prototype.destroy
  },
  boundsItsWaits: false,
  answersSynchronously: true,
  touchUpdatesCookie: true,
  productionWarning: 'Warning: the express-session-rs MemoryStore keeps sessions in this\n' +
    'process only: they are lost when it restarts and not shared with other\n' +
    'processes. Use a shared store (such as RedisStore) to run more than one.',

  load (store, sessionId, callback) {
    const sessions = store[kNativeSessions]
    let json
    try {
      json = sessions.get(sessionId, Date.now())
    } catch (err) {
      callback(err)
      return
    }
    callback(null, json, json === null ? undefined : sessions.lastVersion())
  },

  save (store, sessionId, session, json, condition, expected, callback) {
    let outcome
    try {
      outcome = store[kNativeSessions].save(String(sessionId), json, Cookie.expiryMillis(session),
        Date.now(), condition, condition === SAVE_IF_UNCHANGED ? expected : undefined)
    } catch (err) {
      callback(err)
      return
    }
    callback(null, outcome)
  },

  touch (store, sessionId, session, storedCookie, callback) {
    try {
      moveExpiry(store, sessionId, session, storedCookie)
    } catch (err) {
      callback(err)
      return
    }
    callback(null)
  },

  destroy (store, sessionId, callback) {
    store[kNativeSessions].destroy(String(sessionId))
    callback(null)
  },

  index (store, owner, sessionId, session) {
    let owners = store[kOwners]
    if (!owners) {
      owners = new Map()
      Object.defineProperty(store, kOwners, { value: owners })
    }
    const key = String(owner)
    let ids = owners.get(key)
    if (!ids) {
      ids = new Set()
      owners.set(key, ids)
    }
    ids.add(String(sessionId))
    // Sessions that ended without being read through the index leave it here,
    // whenever the set has doubled since it was last checked.
    if (ids.size >= 16 && ids.size >= 2 * (ids.checkedSize || 0)) {
      ownedSessions(store, key)
      ids.checkedSize = ids.size
    }
  },

  useOwnerOf (store, userOf) {
    store[kOwnerOf] = userOf
  },

  rotate (store, oldId, newId, session, json, callback) {
    let outcome
    try {
      outcome = store[kNativeSessions].rotate(String(oldId), String(newId), json,
        Cookie.expiryMillis(session), Date.now())
    } catch (err) {
      callback(err)
      return
    }
    callback(null, outcome)
  }
}

Object.defineProperty(MemoryStore.prototype, kStoreProtocol, { value: nativeProtocol })

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
      // More are due: go on after other work has had its turn. A timer, not
      // an Immediate: an unref'd Immediate waits until something else wakes
      // an idle event loop, which spread a million sessions' sweep over minutes.
      setTimeout(sweep, 0).unref()
    }
  }
}

module.exports = MemoryStore
module.exports.kNativeSessions = kNativeSessions
