'use strict'

// The session cookie of one request: the ID it carries in (getcookie), the
// Set-Cookie it gets out (setcookie), whether it came over https (issecure),
// whether its path is under the cookie's (underCookiePath), and the codecs that
// sign and verify (Rust: src/cookie/).

const debug = require('debug')('express-session-rs')
const deprecate = require('depd')('express-session')
const parseUrl = require('parseurl')
const native = require('../native')
const { sessionSetCookie } = require('../cookie')

/** The codec for cookie `name` signed with the first of `secrets`, verified with all. */
function codecFor (name, secrets) {
  return new native.SessionCookieCodec(name, secrets.map(secretBytes))
}

/** The codec for the last `req.secret` seen: cookie-parser's secret rarely changes. */
function lastCodecCache (name) {
  let lastSecret
  let lastCodec
  return function codecForSecret (secret) {
    if (secret !== lastSecret || !lastCodec) {
      lastCodec = codecFor(name, [secret])
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
function getcookie (req, name, codec, metrics) {
  const header = req.headers.cookie
  let val

  if (header && typeof header === 'string') {
    val = codec.readId(header)
    if (val === null) {
      debug('no valid signed session cookie')
      if (header.includes(name + '=')) metrics.invalidSignature++
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
          metrics.invalidSignature++
          val = undefined
        }
      } else {
        debug('cookie unsigned')
      }
    }
  }

  return val
}

/** Appends the signed session cookie to the response's Set-Cookie. */
function setcookie (res, codec, id, cookie) {
  const data = sessionSetCookie(codec, id, cookie)

  debug('set-cookie %s', data)

  // As express-session's `(prev || []).concat(data)`, without Array#concat,
  // a C++ builtin that showed up in profiles of every response setting it.
  const prev = res.getHeader('Set-Cookie')
  const header = !prev ? [data] : Array.isArray(prev) ? prev.concat(data) : [prev, data]

  res.setHeader('Set-Cookie', header)
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

module.exports = { codecFor, lastCodecCache, getcookie, setcookie, underCookiePath, issecure }
