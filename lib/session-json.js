'use strict'

// A session's JSON text, made faster than `JSON.stringify(session)` gives it and
// identical to it, split at the end of the `cookie` member.
//
// Most of the cost of stringifying a session is its cookie: `Cookie#toJSON`
// builds a nine-field object and `Date#toJSON` is slow. Here a `Cookie` is
// written field by field, its expiry by a cached ISO formatter, and the rest of
// the session by V8's own `JSON.stringify`. The part after the cookie (`data`)
// is what the dirty check compares: express-session leaves the cookie out of
// its hash. Whatever is not the plain case (the cookie is not the first key, an
// unusual field value, a `toJSON` on the session) goes to `JSON.stringify`, and
// `data` is then undefined.

const Cookie = require('./cookie')

const COOKIE_PREFIX = '{"cookie":'
const nativeDateToJSON = Date.prototype.toJSON
const cookieToJSON = Cookie.prototype.toJSON

/**
 * `{ json, data }`: `json` is `JSON.stringify(session)`; `data` is the text
 * after the cookie member (`}` or `,"key":...}`), when the cookie comes first.
 */
function serializeSession (session) {
  if (firstKey(session) === 'cookie' && typeof session.toJSON !== 'function') {
    const { cookie, ...rest } = session
    const cookieText = cookieJson(cookie)
    if (cookieText !== undefined) {
      const restText = JSON.stringify(rest)
      const data = restText === '{}' ? '}' : ',' + restText.slice(1)
      return { json: COOKIE_PREFIX + cookieText + data, data }
    }
  }
  return { json: JSON.stringify(session), data: undefined }
}

// The first enumerable key, as JSON.stringify would meet it, without the array
// Object.keys would allocate.
function firstKey (object) {
  // eslint-disable-next-line no-unreachable-loop
  for (const key in object) return key
  return undefined
}

/**
 * The data part of stored JSON text whose cookie, parsed, is `storedCookie`:
 * text that `serializeSession` wrote (or any `JSON.stringify`) splits exactly;
 * otherwise undefined.
 */
function dataPartOf (json, storedCookie) {
  if (typeof json !== 'string' || !json.startsWith(COOKIE_PREFIX)) return undefined
  const cookieEnd = flatObjectEnd(json, COOKIE_PREFIX.length)
  let data
  if (cookieEnd !== -1) {
    data = json.slice(cookieEnd)
  } else {
    // Not a flat object: where JSON.stringify would have ended it.
    const cookieText = JSON.stringify(storedCookie)
    if (cookieText === undefined || !json.startsWith(cookieText, COOKIE_PREFIX.length)) return undefined
    data = json.slice(COOKIE_PREFIX.length + cookieText.length)
  }
  return data === '}' || data.charCodeAt(0) === 44 /* , */ ? data : undefined
}

// The end of the object at `start` in `text` when it holds no object and no
// escape: then every quote delimits a string, and the first `}` after an even
// number of them closes it. -1 when that does not hold.
function flatObjectEnd (text, start) {
  if (text.charCodeAt(start) !== 123 /* { */) return -1
  let quotes = 0
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      quotes++
    } else if (c === 92 /* \ */ || c === 123 /* { */) {
      return -1
    } else if (c === 125 /* } */ && (quotes & 1) === 0) {
      return i + 1
    }
  }
  return -1
}

/** `JSON.stringify(cookie)`, the fast way for a plain `Cookie`. */
function cookieJson (cookie) {
  if (!(cookie instanceof Cookie) || Object.getPrototypeOf(cookie) !== Cookie.prototype ||
      cookie.toJSON !== cookieToJSON) {
    return JSON.stringify(cookie)
  }
  // Cookie#data's fields, in its order.
  let out = '{'
  out = field(out, '"originalMaxAge":', cookie.originalMaxAge)
  out = field(out, '"partitioned":', cookie.partitioned)
  out = field(out, '"priority":', cookie.priority)
  out = field(out, '"expires":', cookie._expires)
  out = field(out, '"secure":', cookie.secure)
  out = field(out, '"httpOnly":', cookie.httpOnly)
  out = field(out, '"domain":', cookie.domain)
  out = field(out, '"path":', cookie.path)
  out = field(out, '"sameSite":', cookie.sameSite)
  return out === undefined ? JSON.stringify(cookie) : out + '}'
}

// Appends one member as JSON.stringify would write it; undefined (for the
// caller to fall back) when the value is not one this handles.
function field (out, key, value) {
  if (out === undefined || value === undefined) return out
  const text = valueJson(value)
  if (text === undefined) return undefined
  return (out.length > 1 ? out + ',' : out) + key + text
}

function valueJson (value) {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      if (value === null) return 'null'
      if (value instanceof Date && value.toJSON === nativeDateToJSON) {
        const time = value.getTime()
        return Number.isFinite(time) ? '"' + isoString(time) + '"' : 'null'
      }
      return undefined
    default:
      return undefined
  }
}

const DAY = 86400000
let cachedDay = NaN
let cachedDayPrefix = ''

/** `new Date(time).toISOString()`, with the date part cached per day. */
function isoString (time) {
  const day = Math.floor(time / DAY)
  if (day !== cachedDay) {
    const text = new Date(day * DAY).toISOString()
    // Years outside 0000-9999 are written with six digits and a sign.
    if (text.length !== 24) return new Date(time).toISOString()
    cachedDay = day
    cachedDayPrefix = text.slice(0, 11)
  }
  let ms = time - day * DAY
  const hours = Math.floor(ms / 3600000)
  ms -= hours * 3600000
  const minutes = Math.floor(ms / 60000)
  ms -= minutes * 60000
  const seconds = Math.floor(ms / 1000)
  ms -= seconds * 1000
  return cachedDayPrefix + pad2(hours) + ':' + pad2(minutes) + ':' + pad2(seconds) + '.' +
    (ms < 10 ? '00' + ms : ms < 100 ? '0' + ms : String(ms)) + 'Z'
}

function pad2 (n) {
  return n < 10 ? '0' + n : String(n)
}

module.exports = { serializeSession, dataPartOf, cookieJson, isoString }
