'use strict'

// A session's JSON text, identical to `JSON.stringify(session)` and made faster,
// together with its `data`: the text without the `cookie` member, which is what
// the dirty check compares (express-session leaves the cookie out of its hash).
//
// Most of the cost of stringifying a session is its cookie: `Cookie#toJSON`
// builds an object and `Date#toJSON` is slow. Here a `Cookie` is written field
// by field, its expiry by a cached ISO formatter, and the rest of the session by
// V8's own `JSON.stringify`. `data` is the text after the cookie member (`}` or
// `,"key":...}`); a session whose cookie is not its first key, or which has a
// `toJSON`, is stringified whole and its data made the same shape by a replacer.

const Cookie = require('../cookie')

const { STORED_FIELDS } = Cookie

const COOKIE_PREFIX = '{"cookie":'
const MEMBER_PREFIXES = STORED_FIELDS.map(({ name }) => JSON.stringify(name) + ':')
const nativeDateToJSON = Date.prototype.toJSON
const cookieToJSON = Cookie.prototype.toJSON

/**
 * `{ json, data }`: `JSON.stringify(session)` and its data (see above). When
 * the cookie is not the first key, `json` is made only if it is read (a save):
 * the dirty check needs only `data`.
 */
function serializeSession (session) {
  if (typeof session.toJSON === 'function') {
    return new SerializedSession(session, undefined, dataJson(session))
  }
  const { cookie, ...rest } = session
  const data = asData(JSON.stringify(rest))
  if (firstKey(session) === 'cookie') {
    const cookieText = cookieJson(cookie)
    if (cookieText !== undefined) return new SerializedSession(session, COOKIE_PREFIX + cookieText + data, data)
  }
  return new SerializedSession(session, undefined, data)
}

class SerializedSession {
  constructor (session, json, data) {
    this.session = session
    this.text = json
    this.data = data
  }

  get json () {
    if (this.text === undefined) this.text = JSON.stringify(this.session)
    return this.text
  }
}

/** The data of `session` alone, when its JSON is not needed. */
function serializeData (session) {
  if (typeof session.toJSON === 'function') return dataJson(session)
  const { cookie, ...rest } = session
  return asData(JSON.stringify(rest))
}

// `{}` or `{"key":...}` as the text that follows a cookie member.
function asData (text) {
  return text === '{}' ? '}' : typeof text === 'string' ? ',' + text.slice(1) : String(text)
}

// express-session's hash input: the JSON with the top-level `cookie` left out.
function dataJson (session) {
  let root
  let atRoot = true
  const text = JSON.stringify(session, function (key, value) {
    if (atRoot) {
      atRoot = false
      root = value
      return value
    }
    return this === root && key === 'cookie' ? undefined : value
  })
  return asData(text)
}

// The first enumerable key, as JSON.stringify would meet it, without the array
// Object.keys would allocate.
function firstKey (object) {
  // eslint-disable-next-line no-unreachable-loop
  for (const key in object) return key
  return undefined
}

/** `JSON.stringify(cookie)`, the fast way for a plain `Cookie`. */
function cookieJson (cookie) {
  if (!(cookie instanceof Cookie) || Object.getPrototypeOf(cookie) !== Cookie.prototype ||
      cookie.toJSON !== cookieToJSON) {
    return JSON.stringify(cookie)
  }
  let out = '{'
  for (let i = 0; i < STORED_FIELDS.length; i++) {
    const value = cookie[STORED_FIELDS[i].property]
    if (value === undefined) continue
    const text = valueJson(value)
    // A value this does not write as JSON.stringify would: let it.
    if (text === undefined) return JSON.stringify(cookie)
    out += (out.length > 1 ? ',' : '') + MEMBER_PREFIXES[i] + text
  }
  return out + '}'
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

/**
 * Where the data of a stored session's JSON begins (the `data` above): right
 * after the value of its first member when that is `"cookie"`, as
 * JSON.stringify writes a session (no whitespace); -1 for text laid out
 * otherwise. Scans only the cookie.
 */
function dataStart (json) {
  if (!json.startsWith(COOKIE_PREFIX)) return -1
  const start = valueEnd(json, COOKIE_PREFIX.length)
  const c = json.charCodeAt(start)
  return c === 44 /* , */ || (c === 125 /* } */ && start === json.length - 1) ? start : -1
}

// The index after the JSON value that begins at `from`.
function valueEnd (json, from) {
  let depth = 0
  for (let i = from; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (c === 34 /* " */) {
      i = stringEnd(json, i)
      if (i < 0) return -1
      if (depth === 0) return i + 1
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (depth === 0) return i
      if (--depth === 0) return i + 1
    } else if (depth === 0 && c === 44 /* , */) {
      // After a number, true, false or null.
      return i
    }
  }
  return -1
}

// The index of the quote that closes the string opened at `start`, or -1.
function stringEnd (json, start) {
  let quote = json.indexOf('"', start + 1)
  while (quote !== -1 && escaped(json, quote)) quote = json.indexOf('"', quote + 1)
  return quote
}

// Whether the character at `at` follows an odd number of backslashes.
function escaped (json, at) {
  let i = at - 1
  while (json.charCodeAt(i) === 92 /* \ */) i--
  return (at - 1 - i) % 2 === 1
}

module.exports = { serializeSession, serializeData, cookieJson, isoString, dataStart }
