'use strict'

// The native Redis store: connect-redis's options and data format, with the IO
// in Rust on tokio. Its methods take express-session's callbacks, or return a
// Promise without one. After a failed command it checks the server: if Redis
// is away it emits `disconnect` (the middleware then serves requests without a
// session) and probes until it answers, then emits `connect`.

const util = require('util')
const Store = require('./store')
const native = require('./native')
const { jsonOf } = require('./serialized')

const kRedis = Symbol('express-session-rs.redis')
const kHealth = Symbol('express-session-rs.redis-health')

const defaults = {
  url: 'redis://127.0.0.1:6379',
  prefix: 'sess:',
  ttl: 86400,
  scanCount: 100,
  connectTimeout: 5000,
  commandTimeout: 2000,
  probeInterval: 1000
}

/**
 * @param {object} [options]
 * @param {string} [options.url='redis://127.0.0.1:6379']
 * @param {string[]} [options.cluster] node URLs of a Redis Cluster (instead of `url`)
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
  const opts = { ...defaults, ...dropUndefined(options || {}) }

  if (opts.cluster !== undefined && !(Array.isArray(opts.cluster) && opts.cluster.length > 0)) {
    throw new TypeError('cluster option must be a non-empty array of node URLs')
  }
  for (const name of ['scanCount', 'connectTimeout', 'commandTimeout', 'probeInterval']) {
    if (!(Number.isInteger(opts[name]) && opts[name] > 0)) {
      throw new TypeError(name + ' option must be a positive integer')
    }
  }
  if (typeof opts.ttl !== 'function' && !Number.isFinite(opts.ttl)) {
    throw new TypeError('ttl option must be a number of seconds or a function')
  }

  this.prefix = opts.prefix == null ? defaults.prefix : String(opts.prefix)
  this.ttl = opts.ttl
  this.disableTTL = Boolean(opts.disableTTL)
  this.disableTouch = Boolean(opts.disableTouch)
  this.scanCount = opts.scanCount

  Object.defineProperty(this, kRedis, {
    value: new native.NativeRedisStore({
      url: String(opts.url),
      cluster: opts.cluster && opts.cluster.map(String),
      prefix: this.prefix,
      scanCount: opts.scanCount,
      connectTimeout: opts.connectTimeout,
      commandTimeout: opts.commandTimeout
    })
  })
  Object.defineProperty(this, kHealth, {
    value: { down: false, checking: false, timer: null, interval: opts.probeInterval }
  })
}

util.inherits(RedisStore, Store)

RedisStore.prototype.get = function get (sid, callback) {
  return settle(this, this[kRedis].get(String(sid)).then(parseSession), callback)
}

RedisStore.prototype.set = function set (sid, session, callback) {
  const write = new Promise((resolve) => {
    const { expires, ttl } = lifetimeOf(this, session)
    resolve(this[kRedis].set(String(sid), jsonOf(session), expires, ttl, !this.disableTTL))
  })
  return settle(this, write, callback)
}

RedisStore.prototype.touch = function touch (sid, session, callback) {
  if (this.disableTouch || this.disableTTL) return settle(this, Promise.resolve(), callback)
  const write = new Promise((resolve) => {
    const { expires, ttl } = lifetimeOf(this, session)
    resolve(this[kRedis].touch(String(sid), expires, ttl))
  })
  return settle(this, write, callback)
}

RedisStore.prototype.destroy = function destroy (sid, callback) {
  return settle(this, this[kRedis].destroy(String(sid)), callback)
}

RedisStore.prototype.clear = function clear (callback) {
  return settle(this, this[kRedis].clear(), callback)
}

RedisStore.prototype.length = function length (callback) {
  return settle(this, this[kRedis].ids().then((ids) => ids.length), callback)
}

RedisStore.prototype.ids = function ids (callback) {
  return settle(this, this[kRedis].ids(), callback)
}

/** Every session, each with its `id`, as connect-redis returns them. */
RedisStore.prototype.all = function all (callback) {
  const sessions = this[kRedis].all().then((stored) => stored.map(({ id, json }) => {
    const sess = JSON.parse(json)
    sess.id = id
    return sess
  }))
  return settle(this, sessions, callback)
}

/** Closes the connection and stops probing; the store is unusable afterwards. */
RedisStore.prototype.close = function close (callback) {
  const health = this[kHealth]
  clearInterval(health.timer)
  health.timer = null
  return settle(this, this[kRedis].close(), callback)
}

function parseSession (json) {
  return json === null ? null : JSON.parse(json)
}

// The cookie's expiry for Rust to turn into seconds, or the TTL itself when
// `ttl` is a function.
function lifetimeOf (store, session) {
  if (typeof store.ttl === 'function') return { expires: null, ttl: Math.trunc(store.ttl(session)) }
  const expires = session && session.cookie && session.cookie.expires
  const ms = expires ? Number(new Date(expires)) : NaN
  return { expires: Number.isFinite(ms) ? ms : null, ttl: Math.trunc(store.ttl) }
}

// Callback when given one (called outside the promise chain, so a throwing
// callback is not turned into a rejection), else the Promise.
function settle (store, promise, callback) {
  const checked = promise.catch((err) => {
    checkHealth(store)
    throw err
  })
  if (typeof callback !== 'function') return checked
  checked.then(
    (value) => process.nextTick(callback, null, value),
    (err) => process.nextTick(callback, err)
  )
}

// After a failure: is Redis away? Then tell the middleware, and probe until back.
function checkHealth (store) {
  const health = store[kHealth]
  if (health.down || health.checking) return
  health.checking = true
  store[kRedis].ping().then(() => {
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
  store[kRedis].ping().then(() => {
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

function dropUndefined (object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined))
}

module.exports = RedisStore
module.exports.kRedis = kRedis
module.exports.checkHealth = checkHealth
