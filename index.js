'use strict'

// express-session-rs: express-session's middleware, with the cookie codec, the
// signatures, session IDs, the dirty-check digest and the default store in Rust.
// Reads top to bottom as a request flows: options, the middleware, its helpers.

const debug = require('debug')('express-session-rs')
const deprecate = require('depd')('express-session')
const onHeaders = require('on-headers')
const parseUrl = require('parseurl')

const native = require('./lib/native')
const Cookie = require('./lib/cookie')
const MemoryStore = require('./lib/memory')
const RedisStore = require('./lib/redis')
const Session = require('./lib/session')
const Store = require('./lib/store')
const { SessionTracker, makingSession } = require('./lib/tracking')
const { offerWhile } = require('./lib/serialized')
const callStore = require('./lib/store-call')

const { sessionSetCookie } = Cookie
const nativeRedisGet = RedisStore.prototype.get

exports = module.exports = session

exports.Store = Store
exports.Cookie = Cookie
exports.Session = Session
exports.MemoryStore = MemoryStore
exports.RedisStore = RedisStore

const productionWarning = 'Warning: connect.session() MemoryStore is not\n' +
  'designed for a production environment, as it will leak\n' +
  'memory, and will not scale past a single process.'

const defer = setImmediate

const DEFAULT_STORE_TIMEOUT = 30 * 1000

/**
 * Creates the session middleware; the options are express-session's.
 *
 * @param {object} [options]
 * @return {function} middleware
 */
function session (options) {
  const opts = options || {}

  const cookieOptions = opts.cookie || {}
  const generateId = opts.genid || native.generateSessionId
  const name = opts.name || opts.key || 'connect.sid'
  const store = opts.store || new MemoryStore()
  const trustProxy = opts.proxy
  let resaveSession = opts.resave
  const rollingSessions = Boolean(opts.rolling)
  let saveUninitializedSession = opts.saveUninitialized
  let secret = opts.secret

  if (typeof generateId !== 'function') {
    throw new TypeError('genid option must be a function')
  }

  if (resaveSession === undefined) {
    deprecate('undefined resave option; provide resave option')
    resaveSession = true
  }

  if (saveUninitializedSession === undefined) {
    deprecate('undefined saveUninitialized option; provide saveUninitialized option')
    saveUninitializedSession = true
  }

  if (opts.unset && opts.unset !== 'destroy' && opts.unset !== 'keep') {
    throw new TypeError('unset option must be "destroy" or "keep"')
  }

  const unsetDestroy = opts.unset === 'destroy'

  // Not an express-session option: how long a store may take before the request
  // goes on with an error (express-session would wait for ever).
  let storeTimeout = opts.storeTimeout === undefined ? DEFAULT_STORE_TIMEOUT : opts.storeTimeout
  if (!(Number.isFinite(storeTimeout) && storeTimeout >= 0)) {
    throw new TypeError('storeTimeout option must be a number of milliseconds (0 for none)')
  }

  if (Array.isArray(secret) && secret.length === 0) {
    throw new TypeError('secret option array must contain one or more strings')
  }

  if (secret && !Array.isArray(secret)) {
    secret = [secret]
  }

  if (!secret) {
    deprecate('req.secret; provide secret option')
  }

  // Built once: the secrets' HMAC keys are prepared a single time.
  const configuredCodec = secret ? createCodec(name, secret) : null
  const codecForRequestSecret = lastCodecCache(name)

  if (process.env.NODE_ENV === 'production' && store instanceof MemoryStore) {
    console.warn(productionWarning)
  }

  store.generate = function (req) {
    req.sessionID = generateId(req)
    req.session = new Session(req)
    const resolved = typeof cookieOptions === 'function' ? cookieOptions(req) : cookieOptions
    req.session.cookie = new Cookie(resolved)

    const isSecure = issecure(req, trustProxy)

    if (resolved.secure === 'auto') {
      req.session.cookie.secure = isSecure
    }

    if (resolved.sameSite === 'auto') {
      req.session.cookie.sameSite = isSecure ? 'none' : 'lax'
    }
  }

  const storeImplementsTouch = typeof store.touch === 'function'

  // The native RedisStore bounds every command itself: no timer per request.
  if (store instanceof RedisStore) storeTimeout = 0

  let storeReady = true
  store.on('disconnect', function ondisconnect () {
    storeReady = false
  })
  store.on('connect', function onconnect () {
    storeReady = true
  })

  return function session (req, res, next) {
    if (req.session) {
      next()
      return
    }

    // Serve the request without a session while the store is away.
    if (!storeReady) {
      debug('store is disconnected')
      next()
      return
    }

    const resolvedCookieOptions = typeof cookieOptions === 'function' ? cookieOptions(req) : cookieOptions
    if (!underCookiePath(req, resolvedCookieOptions.path || '/')) {
      debug('pathname mismatch')
      next()
      return
    }

    if (!secret && !req.secret) {
      next(new Error('secret option required for sessions'))
      return
    }

    // Back-compat: cookie-parser passes its secret as req.secret.
    const codec = configuredCodec || codecForRequestSecret(req.secret)

    const tracker = new SessionTracker()
    let touched = false

    req.sessionStore = store

    const cookieId = req.sessionID = getcookie(req, name, codec)

    onHeaders(res, function () {
      if (!req.session) {
        debug('no session')
        return
      }

      tracker.openWindow()
      try {
        if (!shouldSetCookie(req)) {
          return
        }

        const raw = tracker.raw(req.session)

        // Secure cookies only go out over https.
        if (raw.cookie.secure && !issecure(req, trustProxy)) {
          debug('not secured')
          return
        }

        if (!touched) {
          touchSession(req.session, raw)
          touched = true
        }

        try {
          setcookie(res, codec, req.sessionID, raw.cookie)
        } catch (err) {
          defer(next, err)
        }
      } finally {
        tracker.closeWindow()
      }
    })

    // Commit the session when the response ends: keep the last byte back until
    // the store has answered, so the client cannot race the write.
    const _end = res.end
    const _write = res.write
    let ended = false
    res.end = function end (chunk, encoding) {
      if (ended) {
        return false
      }

      ended = true

      let ret
      let sync = true

      function writeend () {
        if (sync) {
          ret = _end.call(res, chunk, encoding)
          sync = false
          return
        }

        _end.call(res)
      }

      function writetop () {
        if (!sync) {
          return ret
        }

        if (!res._header) {
          res._implicitHeader()
        }

        if (chunk == null) {
          ret = true
          return ret
        }

        const contentLength = Number(res.getHeader('Content-Length'))

        if (!isNaN(contentLength) && contentLength > 0) {
          chunk = !Buffer.isBuffer(chunk) ? Buffer.from(chunk, encoding) : chunk
          encoding = undefined

          if (chunk.length !== 0) {
            debug('split response')
            ret = _write.call(res, chunk.slice(0, chunk.length - 1))
            chunk = chunk.slice(chunk.length - 1, chunk.length)
            return ret
          }
        }

        ret = _write.call(res, chunk, encoding)
        sync = false

        return ret
      }

      if (shouldDestroy(req)) {
        debug('destroying')
        callStore(storeTimeout, 'destroy', (done) => store.destroy(req.sessionID, done), function ondestroy (err) {
          if (err) {
            defer(next, err)
          }

          debug('destroyed')
          writeend()
        })

        return writetop()
      }

      if (!req.session) {
        debug('no session')
        return _end.call(res, chunk, encoding)
      }

      if (!touched) {
        touchSession(req.session, tracker.raw(req.session))
        touched = true
      }

      tracker.openWindow()
      try {
        if (shouldSave(req)) {
          const sess = req.session
          const raw = tracker.raw(sess)
          if (raw.save === Session.prototype.save && MemoryStore.hasNative(store, 'set')) {
            // The native MemoryStore writes at once: end the response now.
            debug('saving %s', raw.id)
            try {
              MemoryStore.writeNow(store, raw.id, raw, tracker.recordSave(sess))
            } catch (err) {
              defer(next, err)
            }
            writeend()
            return writetop()
          }

          callStore(storeTimeout, 'set', (done) => sess.save(done), function onsave (err) {
            if (err) {
              defer(next, err)
            }

            writeend()
          })

          return writetop()
        } else if (storeImplementsTouch && shouldTouch(req)) {
          debug('touching')
          const sess = req.session
          if (MemoryStore.hasNative(store, 'touch')) {
            try {
              // Only the expiry moved since the load: the store patches it in place.
              const storedCookie = sess === tracker.loaded ? tracker.original.storedCookie : undefined
              MemoryStore.touchNow(store, req.sessionID, tracker.raw(sess), storedCookie)
            } catch (err) {
              defer(next, err)
            }
            writeend()
            return writetop()
          }

          callStore(storeTimeout, 'touch', (done) => store.touch(req.sessionID, sess, done), function ontouch (err) {
            if (err) {
              defer(next, err)
            }

            debug('touched')
            writeend()
          })

          return writetop()
        }
      } finally {
        tracker.closeWindow()
      }

      return _end.call(res, chunk, encoding)
    }

    function generate () {
      makingSession(req, tracker, () => store.generate(req))
      tracker.original = tracker.emptySnapshot()
      originalId = req.sessionID
    }

    function inflate (sess, json) {
      const storedCookie = sess.cookie
      makingSession(req, tracker, () => store.createSession(req, sess))
      adoptForeignSession()
      originalId = req.sessionID
      // A native store gave the JSON text; for other stores it is made only if
      // the session is about to change (see lib/tracking.js).
      tracker.original = tracker.snapshot(json, storedCookie)
      if (json !== undefined) tracker.loaded = req.session

      if (!resaveSession) {
        tracker.saved = tracker.original
      }
    }

    let originalId

    // Stores built on express-session's own Store (its createSession) give
    // express-session's Session: watch it as well, and note its saves.
    function adoptForeignSession () {
      const sess = req.session
      if (sess === tracker.current || typeof sess !== 'object' || sess === null) return
      const foreignSave = sess.save
      Object.defineProperty(sess, 'save', {
        configurable: true,
        enumerable: false,
        writable: true,
        value: function save (fn) {
          const json = tracker.recordSave(this)
          offerWhile(this, json, () => foreignSave.call(this, fn))
          return this
        }
      })
      req.session = tracker.watch(sess)
    }

    function isModified (sess) {
      return originalId !== tracker.raw(sess).id || !tracker.unchangedSince(tracker.original, sess)
    }

    function isSaved (sess) {
      return originalId === tracker.raw(sess).id && tracker.unchangedSince(tracker.saved, sess)
    }

    function shouldDestroy (req) {
      return req.sessionID && unsetDestroy && req.session == null
    }

    function shouldSave (req) {
      // cannot set cookie without a session ID
      if (typeof req.sessionID !== 'string') {
        debug('session ignored because of bogus req.sessionID %o', req.sessionID)
        return false
      }

      return !saveUninitializedSession && !tracker.saved && cookieId !== req.sessionID
        ? isModified(req.session)
        : !isSaved(req.session)
    }

    function shouldTouch (req) {
      // cannot set cookie without a session ID
      if (typeof req.sessionID !== 'string') {
        debug('session ignored because of bogus req.sessionID %o', req.sessionID)
        return false
      }

      return cookieId === req.sessionID && !shouldSave(req)
    }

    function shouldSetCookie (req) {
      // cannot set cookie without a session ID
      if (typeof req.sessionID !== 'string') {
        return false
      }

      return cookieId !== req.sessionID
        ? saveUninitializedSession || isModified(req.session)
        : rollingSessions || (tracker.raw(req.session).cookie.expires != null && isModified(req.session))
    }

    if (!req.sessionID) {
      debug('no SID sent, generating session')
      generate()
      next()
      return
    }

    debug('fetching %s', req.sessionID)

    // The native MemoryStore answers at once, with the JSON text it holds.
    if (MemoryStore.hasNative(store, 'get')) {
      let json
      try {
        json = store[MemoryStore.kSessions].get(req.sessionID, Date.now())
      } catch (err) {
        next(err)
        return
      }
      next(loaded(json))
      return
    }

    // The native RedisStore answers with the JSON text.
    if (store instanceof RedisStore && store.get === nativeRedisGet) {
      RedisStore.getJson(store, req.sessionID, function (err, json) {
        if (err) {
          debug('error %j', err)
          next(err)
          return
        }
        next(loaded(json))
      })
      return
    }

    callStore(storeTimeout, 'get', (done) => store.get(req.sessionID, done), function (err, sess) {
      if (err && err.code !== 'ENOENT') {
        debug('error %j', err)
        next(err)
        return
      }

      try {
        if (err || !sess) {
          debug('no session found')
          generate()
        } else {
          debug('session found')
          inflate(sess)
        }
      } catch (e) {
        next(e)
        return
      }

      next()
    })

    // A native store's answer: the session's JSON text, or null. Returns the
    // error to pass on, if any.
    function loaded (json) {
      try {
        if (json === null) {
          debug('no session found')
          generate()
        } else {
          debug('session found')
          inflate(JSON.parse(json), json)
        }
      } catch (err) {
        return err
      }
    }
  }
}

// Session#touch, straight on what the Proxy wraps when it is the built-in one
// (which only moves the cookie's expiry); an app's own goes through the Proxy.
function touchSession (session, raw) {
  if (raw.touch === Session.prototype.touch && raw.resetMaxAge === Session.prototype.resetMaxAge) {
    const cookie = raw.cookie
    cookie.maxAge = cookie.originalMaxAge
  } else {
    session.touch()
  }
}

function createCodec (name, secrets) {
  return new native.SessionCookieCodec(name, secrets.map(secretBytes))
}

// The codec for the last `req.secret` seen: cookie-parser's secret rarely changes.
function lastCodecCache (name) {
  let lastSecret
  let lastCodec
  return function codecFor (secret) {
    if (secret !== lastSecret || !lastCodec) {
      lastCodec = createCodec(name, [secret])
      lastSecret = secret
    }
    return lastCodec
  }
}

// Strings sign as their UTF-8 bytes, Buffers and typed arrays as their bytes,
// as they do with Node's crypto.createHmac.
function secretBytes (secret) {
  if (typeof secret === 'string') return secret
  if (ArrayBuffer.isView(secret)) {
    return Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
  }
  throw new TypeError('secret option must be a string, a Buffer or a TypedArray, or an array of them')
}

/**
 * The session ID the request carries: from the Cookie header, else from
 * cookie-parser's `req.signedCookies` or `req.cookies` (deprecated).
 */
function getcookie (req, name, codec) {
  const header = req.headers.cookie
  let val

  if (header && typeof header === 'string') {
    val = codec.readId(header)
    if (val === null) {
      debug('no valid signed session cookie')
      val = undefined
    }
  }

  if (!val && req.signedCookies) {
    val = req.signedCookies[name]

    if (val) {
      deprecate('cookie should be available in req.headers.cookie')
    }
  }

  if (!val && req.cookies) {
    const raw = req.cookies[name]

    if (raw && typeof raw === 'string') {
      if (raw.substr(0, 2) === 's:') {
        val = codec.unsign(raw)

        if (val) {
          deprecate('cookie should be available in req.headers.cookie')
        }

        if (val === null) {
          debug('cookie signature invalid')
          val = undefined
        }
      } else {
        debug('cookie unsigned')
      }
    }
  }

  return val
}

/**
 * Whether the request's original path starts with the cookie's path. For the
 * usual path `/`, a URL that starts with `/` does, and is not parsed: parseurl
 * caches what it parses as a new property of `req`, and each property added to
 * an Express request costs a new V8 map.
 */
function underCookiePath (req, cookiePath) {
  const url = typeof req.originalUrl === 'string' ? req.originalUrl : req.url
  if (cookiePath === '/' && typeof url === 'string' && url.charCodeAt(0) === 47 /* / */) {
    return true
  }
  const pathname = parseUrl.original(req).pathname || '/'
  return pathname.indexOf(cookiePath) === 0
}

/** Whether the request came over https, directly or (when trusted) through a proxy. */
function issecure (req, trustProxy) {
  if (req.connection && req.connection.encrypted) {
    return true
  }

  if (trustProxy === false) {
    return false
  }

  // No explicit trust: Express's req.secure decides.
  if (trustProxy !== true) {
    return req.secure === true
  }

  const header = req.headers['x-forwarded-proto'] || ''
  const index = header.indexOf(',')
  const proto = index !== -1
    ? header.substr(0, index).toLowerCase().trim()
    : header.toLowerCase().trim()

  return proto === 'https'
}

function setcookie (res, codec, id, cookie) {
  const data = sessionSetCookie(codec, id, cookie)

  debug('set-cookie %s', data)

  // As express-session's `(prev || []).concat(data)`, without Array#concat,
  // which runs in C++ and showed up in profiles of every response setting it.
  const prev = res.getHeader('Set-Cookie')
  const header = !prev ? [data] : Array.isArray(prev) ? prev.concat(data) : [prev, data]

  res.setHeader('Set-Cookie', header)
}
