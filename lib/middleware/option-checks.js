'use strict'

// The checks express-session leaves to the first request (where a bad option
// is a crash or a 500 far from its cause): each throws a TypeError naming the
// option when the middleware is made, or, for what a `cookie` function
// returns, at its first use.

const SAME_SITE = ['lax', 'strict', 'none', 'auto']
const PRIORITIES = ['low', 'medium', 'high']
// RFC 6265's cookie-name: an HTTP token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Throws when `cookie` (options for the session cookie) cannot work. */
function checkCookieOptions (cookie, where, name) {
  if (typeof cookie !== 'object' || cookie === null) {
    throw new TypeError(`${where} must be an object of cookie options`)
  }
  const { maxAge, expires, httpOnly, secure, partitioned, sameSite, priority, domain, path } = cookie
  if (maxAge != null && !(typeof maxAge === 'number' && !Number.isNaN(maxAge)) && !(maxAge instanceof Date)) {
    throw new TypeError(`${where}.maxAge must be a number of milliseconds`)
  }
  // Any Date, even an invalid one: express-session reports that when it writes the cookie.
  if (expires != null && !(expires instanceof Date)) {
    throw new TypeError(`${where}.expires must be a Date`)
  }
  for (const [key, value] of [['httpOnly', httpOnly], ['partitioned', partitioned]]) {
    if (value != null && typeof value !== 'boolean') throw new TypeError(`${where}.${key} must be a boolean`)
  }
  if (secure != null && typeof secure !== 'boolean' && secure !== 'auto') {
    throw new TypeError(`${where}.secure must be true, false or 'auto'`)
  }
  if (sameSite != null && typeof sameSite !== 'boolean' &&
      !(typeof sameSite === 'string' && SAME_SITE.includes(sameSite.toLowerCase()))) {
    throw new TypeError(`${where}.sameSite must be true, false, 'lax', 'strict', 'none' or 'auto'`)
  }
  if (priority != null && !(typeof priority === 'string' && PRIORITIES.includes(priority.toLowerCase()))) {
    throw new TypeError(`${where}.priority must be 'low', 'medium' or 'high'`)
  }
  for (const [key, value] of [['domain', domain], ['path', path]]) {
    if (value != null && typeof value !== 'string') throw new TypeError(`${where}.${key} must be a string`)
  }
  checkPrefix(name, cookie, where)
}

// Browsers drop, without a word, a __Secure- cookie that is not secure, and a
// __Host- one that is not secure, has a domain, or a path other than /.
function checkPrefix (name, cookie, where) {
  const host = name.startsWith('__Host-')
  if (!host && !name.startsWith('__Secure-')) return
  const prefix = host ? '__Host-' : '__Secure-'
  if (cookie.secure !== true && cookie.secure !== 'auto') {
    throw new TypeError(`a cookie named ${prefix}... needs ${where}.secure (true, or 'auto' behind https)`)
  }
  if (host && cookie.domain != null) {
    throw new TypeError(`a cookie named __Host-... cannot have ${where}.domain`)
  }
  if (host && cookie.path != null && cookie.path !== '/') {
    throw new TypeError(`a cookie named __Host-... needs ${where}.path '/'`)
  }
}

function checkName (name) {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new TypeError('name option must be a cookie name (letters, digits and !#$%&\'*+-.^_`|~)')
  }
}

function checkBoolean (value, option) {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`${option} option must be a boolean`)
  }
}

function checkSecrets (secrets) {
  for (const secret of secrets) {
    const empty = typeof secret === 'string' ? secret.length === 0 : ArrayBuffer.isView(secret) && secret.byteLength === 0
    if (empty) {
      // Most often an environment variable that is not set.
      throw new TypeError('secret option must not be empty')
    }
  }
}

function checkStore (store) {
  const missing = ['get', 'set', 'destroy', 'on'].filter((method) => typeof store[method] !== 'function')
  if (missing.length) {
    throw new TypeError(`store option must be a session store (it has no ${missing.join(', ')})`)
  }
}

module.exports = { checkCookieOptions, checkName, checkBoolean, checkSecrets, checkStore }
