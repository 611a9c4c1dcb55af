'use strict'

// The session cookie: express-session's `Cookie`, whose `data` is what gets
// serialized into `Set-Cookie` and stored with the session (as `toJSON`).

const deprecate = require('depd')('express-session')
const native = require('./native')

// What a cookie stores and serializes (`data`), in express-session's order: the
// one list every serializer and comparison of a stored cookie goes by.
const STORED_FIELDS = [
  'originalMaxAge', 'partitioned', 'priority', 'expires', 'secure', 'httpOnly', 'domain', 'path', 'sameSite'
].map((name) => ({ name, property: name === 'expires' ? '_expires' : name }))

function Cookie (options) {
  this.path = '/'
  this.maxAge = null
  this.httpOnly = true

  if (options) {
    if (typeof options !== 'object') {
      throw new TypeError('argument options must be a object')
    }

    for (const key in options) {
      if (key !== 'data') {
        this[key] = options[key]
      }
    }
  }

  if (this.originalMaxAge === undefined || this.originalMaxAge === null) {
    this.originalMaxAge = this.maxAge
  }
}

// A plain prototype object, as express-session has, so the accessors and methods
// stay enumerable for code that walks a cookie with for...in.
Cookie.prototype = {
  set expires (date) {
    this._expires = date
    this.originalMaxAge = this.maxAge
  },

  get expires () {
    return this._expires
  },

  set maxAge (ms) {
    if (ms && typeof ms !== 'number' && !(ms instanceof Date)) {
      throw new TypeError('maxAge must be a number or Date')
    }

    if (ms instanceof Date) {
      deprecate('maxAge as Date; pass number of milliseconds instead')
    }

    this.expires = typeof ms === 'number' ? new Date(Date.now() + ms) : ms
  },

  get maxAge () {
    return this.expires instanceof Date
      ? this.expires.valueOf() - Date.now()
      : this.expires
  },

  get data () {
    const data = {}
    for (const { name, property } of STORED_FIELDS) data[name] = this[property]
    return data
  },

  serialize: function (name, val) {
    return serializeCookie(name, val, this.data)
  },

  toJSON: function () {
    return this.data
  }
}

Object.defineProperty(Cookie.prototype, 'constructor', {
  configurable: true,
  enumerable: false,
  value: Cookie,
  writable: true
})

/**
 * `cookie.serialize(name, value, attributes)`: the value percent-encoded, the
 * attributes validated and written in the `cookie` package's order.
 */
function serializeCookie (name, value, attributes) {
  const a = attributes || {}
  try {
    return native.serializeCookie(String(name), String(value), {
      expires: expiresMillis(a.expires),
      domain: optionalString(a.domain),
      path: optionalString(a.path),
      httpOnly: Boolean(a.httpOnly),
      secure: Boolean(a.secure),
      partitioned: Boolean(a.partitioned),
      priority: optionalString(a.priority),
      sameSite: sameSiteValue(a.sameSite)
    })
  } catch (err) {
    throw asTypeError(err)
  }
}

/**
 * The signed session cookie for `Set-Cookie`. `cookie` is a `Cookie` or
 * anything with the same fields. Runs on every response that sets the cookie,
 * so the attributes go as arguments, and only when they differ from the last
 * ones this codec wrote (they rarely change): otherwise only the expiry goes.
 */
function sessionSetCookie (codec, id, cookie) {
  const c = cookie instanceof Cookie ? cookie : (cookie && cookie.data) || {}
  const expires = expiresMillis(c.expires)
  const domain = optionalString(c.domain)
  const path = optionalString(c.path)
  const httpOnly = Boolean(c.httpOnly)
  const secure = Boolean(c.secure)
  const partitioned = Boolean(c.partitioned)
  const priority = optionalString(c.priority)
  const sameSite = sameSiteValue(c.sameSite)
  const last = codec[kLastAttributes]
  try {
    if (last !== undefined && last.domain === domain && last.path === path &&
        last.httpOnly === httpOnly && last.secure === secure && last.partitioned === partitioned &&
        last.priority === priority && last.sameSite === sameSite) {
      const header = codec.setCookieExpiring(String(id), expires)
      if (header !== null) return header
    }
    const header = codec.setCookie(String(id), expires, domain, path, httpOnly, secure, partitioned,
      priority, sameSite)
    codec[kLastAttributes] = { domain, path, httpOnly, secure, partitioned, priority, sameSite }
    return header
  } catch (err) {
    throw asTypeError(err)
  }
}

const kLastAttributes = Symbol('express-session-rs.lastCookieAttributes')

// The native side reports invalid attributes as plain Errors; express-session
// users get TypeErrors from the `cookie` package, so they still do.
function asTypeError (err) {
  return err.code === 'InvalidArg' ? new TypeError(err.message) : err
}

/**
 * When a stored session's cookie expires, in ms since the epoch, from a Date,
 * a number or the ISO text a store gives back; NaN when it never does.
 */
function expiryMillis (session) {
  const expires = session && session.cookie && session.cookie.expires
  if (!expires) return NaN
  if (typeof expires === 'number') return expires
  if (expires instanceof Date) return expires.getTime()
  return new Date(expires).getTime()
}

// Only a valid Date is a valid expiry; anything else truthy is rejected natively.
function expiresMillis (expires) {
  if (!expires) return undefined
  return Object.prototype.toString.call(expires) === '[object Date]' ? expires.getTime() : NaN
}

function optionalString (value) {
  return value ? String(value) : undefined
}

function sameSiteValue (value) {
  return value === true ? 'strict' : optionalString(value)
}

module.exports = Cookie
module.exports.serializeCookie = serializeCookie
module.exports.sessionSetCookie = sessionSetCookie
module.exports.expiryMillis = expiryMillis
module.exports.STORED_FIELDS = STORED_FIELDS
