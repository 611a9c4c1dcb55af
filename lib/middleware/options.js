'use strict'

// session(options): express-session's options checked once, with its defaults,
// deprecations and TypeErrors, into the settings every request reads.

const deprecate = require('depd')('express-session')
const native = require('../native')
const MemoryStore = require('../stores/memory-store')
const StoreAdapter = require('../stores/adapter')
const Metrics = require('./metrics')
const CommitQueue = require('./commit-queue')
const { codecFor, lastCodecCache } = require('./cookie')
const checks = require('./option-checks')

// Not an express-session option: how long a store written against the callback
// API may take to answer before the request goes on with an error.
const DEFAULT_STORE_TIMEOUT = 30 * 1000

class Settings {
  constructor (options) {
    const opts = options || {}

    this.cookie = opts.cookie || {}
    this.generateId = opts.genid || native.generateSessionId
    this.name = opts.name || opts.key || 'connect.sid'
    this.store = opts.store || new MemoryStore()
    this.trustProxy = opts.proxy
    this.resave = opts.resave
    this.rolling = Boolean(opts.rolling)
    this.saveUninitialized = opts.saveUninitialized

    if (typeof this.generateId !== 'function') {
      throw new TypeError('genid option must be a function')
    }

    checks.checkName(this.name)
    checks.checkStore(this.store)
    for (const option of ['resave', 'saveUninitialized', 'rolling', 'proxy']) {
      checks.checkBoolean(opts[option], option)
    }
    if (typeof this.cookie === 'function') {
      this.cookieChecked = false
    } else {
      checks.checkCookieOptions(this.cookie, 'cookie', this.name)
      this.cookieChecked = true
    }

    if (this.resave === undefined) {
      deprecate('undefined resave option; provide resave option')
      this.resave = true
    }

    if (this.saveUninitialized === undefined) {
      deprecate('undefined saveUninitialized option; provide saveUninitialized option')
      this.saveUninitialized = true
    }

    if (opts.unset && opts.unset !== 'destroy' && opts.unset !== 'keep') {
      throw new TypeError('unset option must be "destroy" or "keep"')
    }
    this.unsetDestroy = opts.unset === 'destroy'

    // Not an express-session option: with a native store, saves are
    // conditional and merge (lib/middleware/save.js); true restores
    // express-session's whole-session last write wins.
    if (opts.lastWriteWins !== undefined && typeof opts.lastWriteWins !== 'boolean') {
      throw new TypeError('lastWriteWins option must be a boolean')
    }
    this.lastWriteWins = opts.lastWriteWins === true

    // Not express-session options (opt-in): how long a returning visitor's
    // store touch may be left out, and the most a session may live.
    this.touchAfter = optionalMillis(opts.touchAfter, 'touchAfter')
    const maxAge = typeof this.cookie === 'object' ? this.cookie.maxAge : undefined
    if (this.touchAfter !== undefined && typeof maxAge === 'number' && this.touchAfter >= maxAge) {
      throw new TypeError('touchAfter option must be smaller than cookie.maxAge')
    }
    this.absoluteTimeout = optionalMillis(opts.absoluteTimeout, 'absoluteTimeout')
    if (this.absoluteTimeout === 0) {
      throw new TypeError('absoluteTimeout option must be a positive number of milliseconds')
    }

    const storeTimeout = opts.storeTimeout === undefined ? DEFAULT_STORE_TIMEOUT : opts.storeTimeout
    if (!(Number.isFinite(storeTimeout) && storeTimeout >= 0)) {
      throw new TypeError('storeTimeout option must be a number of milliseconds (0 for none)')
    }
    this.metrics = new Metrics()
    this.commits = new CommitQueue()
    this.storeAccess = new StoreAdapter(this.store, storeTimeout, this.metrics)

    // Not an express-session option (opt-in): whose session it is, for the
    // native stores' owner index (store.sessionsOf, store.destroySessionsOf).
    if (opts.userOf !== undefined) {
      if (typeof opts.userOf !== 'function') {
        throw new TypeError('userOf option must be a function of the session')
      }
      if (!this.storeAccess.indexesOwners()) {
        throw new TypeError('userOf option needs a store with an owner index: the native MemoryStore or RedisStore')
      }
      this.storeAccess.useOwnerOf(opts.userOf)
    }
    this.userOf = opts.userOf

    let secret = opts.secret
    if (Array.isArray(secret) && secret.length === 0) {
      throw new TypeError('secret option array must contain one or more strings')
    }
    if (secret && !Array.isArray(secret)) {
      secret = [secret]
    }
    if (opts.secret !== undefined) checks.checkSecrets(Array.isArray(secret) ? secret : [opts.secret])
    if (!secret) {
      deprecate('req.secret; provide secret option')
    }
    this.secret = secret

    // Built once: the secrets' HMAC keys are prepared a single time. Without a
    // secret, cookie-parser's `req.secret` signs (deprecated).
    this.codec = secret ? codecFor(this.name, secret) : null
    this.codecForRequestSecret = lastCodecCache(this.name)
  }

  /** Files the session (`target`, not its Proxy) under its owner, if any. */
  indexOwner (id, target) {
    const owner = this.userOf(target)
    if (owner !== undefined && owner !== null) this.storeAccess.index(owner, id, target)
  }

  /**
   * The cookie options for `req`: `cookie`, or what the `cookie` function
   * returns (checked the first time: a TypeError then, not a crash later).
   */
  cookieOptionsFor (req) {
    if (typeof this.cookie !== 'function') return this.cookie
    const options = this.cookie(req)
    if (!this.cookieChecked) {
      checks.checkCookieOptions(options, 'the cookie function\'s result', this.name)
      this.cookieChecked = true
    }
    return options
  }
}

// A number of milliseconds, or undefined when not given.
function optionalMillis (value, name) {
  if (value === undefined) return undefined
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
    throw new TypeError(name + ' option must be a number of milliseconds')
  }
  return value
}

module.exports = Settings
