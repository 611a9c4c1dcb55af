'use strict'

// The native Redis store: connect-redis's options and data format. A
// standalone server's session commands go over a socket of the JS thread
// (redis-direct.js); the rest of the IO runs in Rust on tokio, on a thread of
// its own. Its methods take express-session's
// callbacks, or return a Promise without one. After a failed command it checks the server: if Redis
// is away it emits `disconnect` (the middleware then serves requests without a
// session) and probes until it answers, then emits `connect`.

const util = require('util')
const Store = require('../store')
const native = require('../native')
const Cookie = require('../cookie')
const { jsonForStore } = require('../tracking/tracker')
const { kStoreProtocol, SAVE_IF_UNCHANGED } = require('./protocol')
const { readOptions } = require('./redis-options')
const { DirectLink } = require('./redis-direct')

const { RedisOp, RedisReplyKind } = native

const kRedis = Symbol('express-session-rs.redis')
const kHealth = Symbol('express-session-rs.redis-health')
const kQueue = Symbol('express-session-rs.redis-queue')
const kDirect = Symbol('express-session-rs.redis-direct')
// The middleware's userOf, which tells whether an indexed session is still its owner's.
const kOwnerOf = Symbol('express-session-rs.owner-of')

/**
 * @param {object} [options] see lib/stores/redis-options.js and the README
 * @param {string} [options.url='redis://127.0.0.1:6379'] redis://, rediss:// or unix://
 * @param {string[]} [options.cluster] node URLs of a Redis Cluster (instead of `url`)
 * @param {object} [options.sentinel] `{ nodes, name, username?, password?, tls? }` (instead of `url`)
 * @param {string} [options.username] ACL user (wins over the URL's)
 * @param {string} [options.password]
 * @param {object|boolean} [options.tls] Node's `ca`, `cert`, `key`, `servername`, `rejectUnauthorized`
 * @param {string} [options.prefix='sess:']
 * @param {number|function} [options.ttl=86400] seconds, or a function of the session
 * @param {boolean} [options.disableTouch=false]
 * @param {boolean} [options.disableTTL=false]
 * @param {number} [options.scanCount=100]
 * @param {number} [options.connectTimeout=5000] ms
 * @param {number} [options.commandTimeout=2000] ms
 * @param {number} [options.probeInterval=1000] ms between checks while Redis is away
 */
function RedisStore (options) {
  if (!(this instanceof RedisStore)) return new RedisStore(options)
  Store.call(this)
  const { opts, native: nativeOptions } = readOptions(options)

  this.prefix = nativeOptions.prefix
  this.ttl = opts.ttl
  this.disableTTL = Boolean(opts.disableTTL)
  this.disableTouch = Boolean(opts.disableTouch)
  this.scanCount = opts.scanCount

  // The reply handler must not reach this store (the native side keeps it
  // alive), so it closes over the queue alone.
  const queue = new CommandQueue()
  Object.defineProperty(this, kQueue, { value: queue })
  let redis
  try {
    redis = new native.NativeRedisStore(nativeOptions, queue.deliver.bind(queue))
  } catch (err) {
    // What the native side could not read (URL, TLS material) is the caller's.
    if (err.code === 'InvalidArg') throw new TypeError('RedisStore: ' + err.message)
    throw err
  }
  Object.defineProperty(this, kRedis, { value: redis })
  // A standalone server's session commands go over a socket of the JS thread.
  const target = redis.directTarget()
  const direct = target == null
    ? null
    : new DirectLink(redis, target, (replies) => queue.deliver(replies), nativeOptions)
  Object.defineProperty(this, kDirect, { value: direct })
  // The socket's handlers do not reach this store, so it can be collected
  // while the connection is open; the connection then goes with it.
  if (direct !== null) collected.register(this, direct)
  Object.defineProperty(this, kHealth, {
    value: { down: false, checking: false, closed: false, timer: null, interval: opts.probeInterval }
  })
}

util.inherits(RedisStore, Store)

const collected = new FinalizationRegistry((direct) => direct.drop(direct.socket, 'the Redis store was closed'))

RedisStore.prototype.get = function get (sid, callback) {
  return send(this, { op: RedisOp.Get, sid: String(sid) }, parsedSession, callback)
}

RedisStore.prototype.set = function set (sid, session, callback) {
  let json
  try {
    json = jsonForStore(session)
  } catch (err) {
    return failed(err, callback)
  }
  return write(this, sid, session, json, callback)
}

RedisStore.prototype.touch = function touch (sid, session, callback) {
  if (this.disableTouch || this.disableTTL) return failed(null, callback)
  let command
  try {
    const { expires, ttl } = lifetimeOf(this, session)
    command = { op: RedisOp.Touch, sid: String(sid), expires, ttl }
  } catch (err) {
    return failed(err, callback)
  }
  return send(this, command, nothing, callback)
}

function write (store, sid, session, json, callback) {
  let command
  try {
    const { expires, ttl } = lifetimeOf(store, session)
    command = { op: RedisOp.Set, sid: writableId(sid), json, expires, ttl, expire: !store.disableTTL }
  } catch (err) {
    return failed(err, callback)
  }
  return send(store, command, nothing, callback)
}

RedisStore.prototype.destroy = function destroy (sid, callback) {
  return send(this, { op: RedisOp.Destroy, sid: String(sid) }, nothing, callback)
}

RedisStore.prototype.clear = function clear (callback) {
  return send(this, { op: RedisOp.Clear }, nothing, callback)
}

RedisStore.prototype.length = function length (callback) {
  return send(this, { op: RedisOp.Ids }, (kind, ids) => ids.length, callback)
}

RedisStore.prototype.ids = function ids (callback) {
  return send(this, { op: RedisOp.Ids }, payloadOf, callback)
}

/** Every session, each with its `id`, as connect-redis returns them. */
RedisStore.prototype.all = function all (callback) {
  return send(this, { op: RedisOp.All }, sessionsWithIds, callback)
}

/**
 * The live sessions of `owner` (as `userOf` named it), `[{ id, session }]`:
 * those filed under it whose session still exists and still belongs to it.
 */
RedisStore.prototype.sessionsOf = function sessionsOf (owner, callback) {
  return withCallback(callback, (done) => ownedSessions(this, owner, done))
}

/**
 * Destroys every session of `owner` but `options.except` (an ID); resolves to
 * how many it destroyed.
 */
RedisStore.prototype.destroySessionsOf = function destroySessionsOf (owner, options, callback) {
  if (typeof options === 'function') {
    callback = options
    options = undefined
  }
  const except = options && options.except
  return withCallback(callback, (done) => ownedSessions(this, owner, (err, sessions) => {
    if (err) return done(err)
    const doomed = sessions.filter(({ id }) => id !== except).map(({ id }) => id)
    let left = doomed.length
    if (left === 0) return done(null, 0)
    let failed = null
    for (const id of doomed) {
      send(this, { op: RedisOp.Destroy, sid: id }, nothing, (err) => {
        if (err) failed = err
        if (--left > 0) return
        if (failed) return done(failed)
        send(this, { op: RedisOp.Unindex, owner: String(owner), sids: doomed }, nothing, (err) => done(err, doomed.length))
      })
    }
  }))
}

// Reads `owner`'s index, then each session filed there; drops from the index
// what is gone or now belongs to someone else.
function ownedSessions (store, owner, done) {
  const ownerOf = store[kOwnerOf]
  const key = String(owner)
  send(store, { op: RedisOp.Indexed, owner: key }, payloadOf, (err, ids) => {
    if (err) return done(err)
    if (ids.length === 0) return done(null, [])
    const found = new Array(ids.length)
    let left = ids.length
    let failed = null
    ids.forEach((id, i) => {
      send(store, { op: RedisOp.Get, sid: id }, parsedSession, (err, session) => {
        if (err) failed = err
        found[i] = session
        if (--left > 0) return
        if (failed) return done(failed)
        const live = []
        const stale = []
        ids.forEach((id, i) => {
          const session = found[i]
          if (session && (!ownerOf || String(ownerOf(session)) === key)) live.push({ id, session })
          else stale.push(id)
        })
        if (stale.length === 0) return done(null, live)
        send(store, { op: RedisOp.Unindex, owner: key, sids: stale }, nothing, (err) => done(err, live))
      })
    })
  })
}

// Node-style `callback` when given, else a Promise.
function withCallback (callback, run) {
  if (typeof callback === 'function') {
    run(callback)
    return
  }
  return new Promise((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value))))
}

/** Closes the connection and stops probing; the store is unusable afterwards. */
RedisStore.prototype.close = function close (callback) {
  const health = this[kHealth]
  clearInterval(health.timer)
  health.timer = null
  health.closed = true
  if (this[kDirect] !== null) this[kDirect].close()
  return send(this, { op: RedisOp.Close }, nothing, callback)
}

// The native-store protocol (see protocol.js): JSON text both ways. Every
// command is bounded by the store's own timeouts.
const nativeProtocol = {
  standsFor: {
    get: RedisStore.prototype.get,
    set: RedisStore.prototype.set,
    touch: RedisStore.prototype.touch,
    destroy: RedisStore.prototype.destroy
  },
  boundsItsWaits: true,

  load (store, sid, callback) {
    send(store, { op: RedisOp.Get, sid }, payloadOf, callback)
  },

  save (store, sid, session, json, condition, expected, callback) {
    let command
    try {
      const { expires, ttl } = lifetimeOf(store, session)
      command = {
        op: RedisOp.Save,
        sid: writableId(sid),
        json,
        expires,
        ttl,
        expire: !store.disableTTL,
        condition,
        expected: condition === SAVE_IF_UNCHANGED ? expected : undefined
      }
    } catch (err) {
      process.nextTick(callback, err)
      return
    }
    send(store, command, saveOutcome, callback)
  },

  touch (store, sid, session, storedCookie, callback) {
    store.touch(sid, session, callback)
  },

  destroy (store, sid, callback) {
    store.destroy(sid, callback)
  },

  // The owner index (userOf): filed along with each save and touch, in the
  // same batch (so in the same pipeline), and checked when read.
  index (store, owner, sid, session) {
    let command
    try {
      const { expires, ttl } = lifetimeOf(store, session)
      command = { op: RedisOp.Index, owner: String(owner), sid: String(sid), expires, ttl, expire: !store.disableTTL }
    } catch (err) {
      return
    }
    send(store, command, nothing, nothing)
  },

  useOwnerOf (store, userOf) {
    store[kOwnerOf] = userOf
  },

  // In one script on a single server; on a cluster the two keys may live on
  // different nodes, so the new one is created before the old one is deleted.
  rotate (store, oldSid, newSid, session, json, callback) {
    let command
    try {
      const { expires, ttl } = lifetimeOf(store, session)
      command = { op: RedisOp.Rotate, sid: writableId(newSid), oldSid: String(oldSid), json, expires, ttl, expire: !store.disableTTL }
    } catch (err) {
      process.nextTick(callback, err)
      return
    }
    send(store, command, saveOutcome, callback)
  }
}

Object.defineProperty(RedisStore.prototype, kStoreProtocol, { value: nativeProtocol })

// Commands wait in `batch` until the event loop's check phase, then cross to
// Rust, one call each with positional arguments, and go together to the IO
// thread (one wake-up of it per loop turn) or, encoded, to the direct socket.
// Replies come back in batches too, as one flat array, matched to their
// callbacks by `seq`.
class CommandQueue {
  constructor () {
    this.batch = []
    this.waiting = new Map()
    this.seq = 0
  }

  // `replies`: `seq, kind, payload` for each (src/binding/redis.rs).
  deliver (replies) {
    for (let i = 0; i < replies.length; i += 3) {
      const entry = this.waiting.get(replies[i])
      if (entry === undefined) continue
      this.waiting.delete(replies[i])
      const kind = replies[i + 1]
      const payload = replies[i + 2]
      if (kind === RedisReplyKind.Error) {
        checkHealth(entry.store)
        finish(entry.callback, replyError(payload))
        continue
      }
      let value
      try {
        value = entry.answer(kind, payload)
      } catch (err) {
        finish(entry.callback, err)
        continue
      }
      finish(entry.callback, null, value)
    }
  }

  // Command `seq` failed before it reached Redis.
  fail (seq, err) {
    this.deliver([seq, RedisReplyKind.Error, err.message])
  }
}

function send (store, command, answer, callback) {
  let promise
  if (typeof callback !== 'function') {
    promise = new Promise((resolve, reject) => {
      callback = (err, value) => err ? reject(err) : resolve(value)
    })
  }
  const queue = store[kQueue]
  // 0 is the direct connection's handshake (redis-direct.js).
  queue.seq = ((queue.seq + 1) >>> 0) || 1
  command.seq = queue.seq
  queue.waiting.set(command.seq, { store, answer, callback })
  queue.batch.push(command)
  if (queue.batch.length === 1) setImmediate(flush, store)
  return promise
}

function flush (store) {
  const queue = store[kQueue]
  const batch = queue.batch
  queue.batch = []
  const redis = store[kRedis]
  for (const c of batch) {
    try {
      redis.queue(c.seq, c.op, c.sid, c.json, c.expires, c.ttl, c.expire, c.condition, c.expected, c.oldSid, c.owner, c.sids)
    } catch (err) {
      queue.fail(c.seq, err)
    }
  }
  let bytes
  try {
    bytes = redis.flush()
  } catch (err) {
    // Those that already failed are answered: fail() passes them over.
    for (const c of batch) queue.fail(c.seq, err)
    return
  }
  if (bytes != null) store[kDirect].send(bytes)
}

// A timed-out command carries the code every store timeout has.
function replyError (message) {
  const err = new Error(message)
  if (/timed out/.test(message)) err.code = 'ERR_SESSION_STORE_TIMEOUT'
  return err
}

// A callback runs to completion without cutting the batch short: what it
// throws is rethrown on its own, as an uncaught exception.
function finish (callback, err, value) {
  try {
    callback(err, value)
  } catch (thrown) {
    process.nextTick(rethrow, thrown)
  }
}

function rethrow (err) {
  throw err
}

// Callback when given one, else a Promise.
function failed (err, callback) {
  if (typeof callback === 'function') {
    process.nextTick(callback, err)
    return
  }
  return err ? Promise.reject(err) : Promise.resolve()
}

function nothing () {}

// A session ID as a key: never one with a NUL, which owner indexes use.
function writableId (sid) {
  const id = String(sid)
  if (id.includes('\0')) throw new TypeError('a session ID stored in Redis cannot contain a NUL character')
  return id
}

// lib/stores/protocol.js's outcome: true, null, or the JSON stored now.
function saveOutcome (kind, stored) {
  return kind === RedisReplyKind.Saved ? true : stored
}

function payloadOf (kind, payload) {
  return payload
}

function parsedSession (kind, json) {
  return json === null ? null : JSON.parse(json)
}

function sessionsWithIds (kind, values) {
  const sessions = []
  for (let i = 0; i < values.length; i += 2) {
    const sess = JSON.parse(values[i + 1])
    sess.id = values[i]
    sessions.push(sess)
  }
  return sessions
}

// What Rust turns into the key's TTL (src/redis/): the cookie's expiry and the
// default, or what the `ttl` function says, which then decides alone.
function lifetimeOf (store, session) {
  if (typeof store.ttl === 'function') return { expires: undefined, ttl: Math.trunc(store.ttl(session)) }
  const ms = Cookie.expiryMillis(session)
  return { expires: Number.isFinite(ms) ? ms : undefined, ttl: Math.trunc(store.ttl) }
}

// After a failure: is Redis away? Then tell the middleware, and probe until back.
function checkHealth (store) {
  const health = store[kHealth]
  if (health.down || health.checking || health.closed) return
  health.checking = true
  send(store, { op: RedisOp.Ping }, nothing).then(() => {
    health.checking = false
  }, () => {
    health.checking = false
    if (health.down) return
    health.down = true
    store.emit('disconnect')
    health.timer = setInterval(() => probe(store), health.interval)
    health.timer.unref()
  })
}

function probe (store) {
  const health = store[kHealth]
  if (health.checking) return
  health.checking = true
  send(store, { op: RedisOp.Ping }, nothing).then(() => {
    health.checking = false
    if (!health.down) return
    health.down = false
    clearInterval(health.timer)
    health.timer = null
    store.emit('connect')
  }, () => {
    health.checking = false
  })
}

module.exports = RedisStore
