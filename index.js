'use strict'

// express-session-rs: express-session's middleware, with the cookie codec, the
// signatures, session IDs and the default stores in Rust. A request goes
// through the files in this order (ARCHITECTURE.md has the whole path):
//
//   lib/middleware/options.js   session(options): settings checked once
//   lib/middleware/cookie.js    the session ID the request's cookie carries
//   lib/middleware/commit.js    the response hooks, installed before the load
//                               (Set-Cookie at the headers, the commit at the end)
//   lib/middleware/load.js      from the ID to req.session, through the store
//   lib/stores/adapter.js       the one interface to the store

const debug = require('debug')('express-session-rs')

const Cookie = require('./lib/cookie')
const MemoryStore = require('./lib/stores/memory-store')
const RedisStore = require('./lib/stores/redis-store')
const Session = require('./lib/session')
const Store = require('./lib/store')
const Settings = require('./lib/middleware/options')
const RequestState = require('./lib/middleware/request-state')
const { getcookie, underCookiePath } = require('./lib/middleware/cookie')
const { hookResponse } = require('./lib/middleware/commit')
const { loadSession, installGenerate } = require('./lib/middleware/load')

exports = module.exports = session

exports.Store = Store
exports.Cookie = Cookie
exports.Session = Session
exports.MemoryStore = MemoryStore
exports.RedisStore = RedisStore

/**
 * Creates the session middleware; the options are express-session's.
 *
 * @param {object} [options]
 * @return {function} middleware
 */
function session (options) {
  const settings = new Settings(options)
  const store = settings.store

  // What a store wants production users told (the MemoryStore: one process).
  const warning = settings.storeAccess.productionWarning
  if (process.env.NODE_ENV === 'production' && warning) {
    console.warn(warning)
  }

  installGenerate(settings)

  // While the store reports itself away, requests are served without a session.
  let storeReady = true
  store.on('disconnect', function ondisconnect () {
    storeReady = false
  })
  store.on('connect', function onconnect () {
    storeReady = true
  })

  middleware.metrics = function metrics () {
    return settings.metrics.snapshot()
  }

  return middleware

  function middleware (req, res, next) {
    if (req.session) {
      next()
      return
    }

    if (!storeReady) {
      debug('store is disconnected')
      next()
      return
    }

    // A `cookie` function that throws (or returns what cannot work) is the
    // request's error, not a crash.
    let cookieOptions
    try {
      cookieOptions = settings.cookieOptionsFor(req)
    } catch (err) {
      next(err)
      return
    }

    if (!underCookiePath(req, cookieOptions.path || '/')) {
      debug('pathname mismatch')
      next()
      return
    }

    if (!settings.secret && !req.secret) {
      next(new Error('secret option required for sessions'))
      return
    }

    // Back-compat: cookie-parser passes its secret as req.secret.
    const codec = settings.codec || settings.codecForRequestSecret(req.secret)
    const state = new RequestState(settings, codec, req, res, next)

    // The cookie is read before req gets its first property from here: each
    // one gives an Express request a shape V8 has not seen, so every read of
    // it after that misses V8's inline caches.
    state.cookieId = getcookie(req, settings.name, codec, settings.metrics)
    req.sessionStore = store
    req.sessionID = state.cookieId

    hookResponse(state)
    loadSession(state)
  }
}
