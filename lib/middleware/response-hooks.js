'use strict'

// Where the middleware hooks a response: its headers (for the Set-Cookie) and
// its end (for the commit). express-session wraps `writeHead` (on-headers) and
// `end` on every response, which gives each Express response two new own
// properties and two closures. Express re-prototypes every response, and V8
// caches no shape transitions for an object whose prototype was set, so each
// property added to one builds a new shape (~16k instructions, measured).
// Here, for an Express response, the two hooks are installed once, on the
// response prototype every Express app of that copy of Express shares
// (mounted apps included), and find their request's state in a WeakMap, so
// the response gets no property at all; responses without state pass straight
// through. The entry goes when the response really ends: an entry whose value
// (the state) reaches its key survives every scavenge until a full GC, and
// left in place, such entries made scavenges half again as long.
//
// Anything else keeps the per-response wrappers: a plain `http` server's
// response (its prototype is Node's own), a response whose `writeHead`,
// `write` or `end` was already wrapped before this middleware ran (so the
// wrapping order stays the one the app set up), and a response a second
// session middleware hooked first.

const http = require('http')
const onHeaders = require('on-headers')

// The RequestState of each hooked response, until it ends.
const states = new WeakMap()
const hooked = new WeakSet()
const hasOwn = Object.prototype.hasOwnProperty

/**
 * Hooks `res`: `onHeaders(state)` runs once, when the headers are about to be
 * written; `onEnd(state, res, end, write, chunk, encoding)` runs instead of the
 * first `res.end`, with the `end` and `write` it must use.
 */
function hookResponse (state, res, onHeadersOf, onEnd) {
  const shared = sharedPrototype(res)
  if (shared === null || states.has(res) ||
    hasOwn.call(res, 'writeHead') || hasOwn.call(res, 'end') || hasOwn.call(res, 'write')) {
    hookEach(state, res, onHeadersOf, onEnd)
    return
  }
  if (!hooked.has(shared)) install(shared, onHeadersOf, onEnd)
  states.set(res, state)
}

// The prototype Express gives its responses, below every app's own (Express
// re-prototypes each response to `app.response`, which inherits from it);
// null when `res` is not such a response.
function sharedPrototype (res) {
  let proto = Object.getPrototypeOf(res)
  if (proto === http.ServerResponse.prototype) return null
  while (proto !== null) {
    const parent = Object.getPrototypeOf(proto)
    if (parent === http.ServerResponse.prototype) return proto
    proto = parent
  }
  return null
}

function install (proto, onHeadersOf, onEnd) {
  hooked.add(proto)
  const nextWriteHead = proto.writeHead
  const nextWrite = proto.write
  const nextEnd = proto.end

  proto.writeHead = function writeHead (statusCode) {
    const state = states.get(this)
    if (state === undefined) return nextWriteHead.apply(this, arguments)
    const args = headersGiven(this, arguments)
    if (!state.headersHooked) {
      state.headersHooked = true
      onHeadersOf(state)
      // A status the hook changed goes out instead of the one given.
      if (typeof args[0] === 'number' && this.statusCode !== args[0]) {
        args[0] = this.statusCode
        args.length = 1
      }
    }
    return nextWriteHead.apply(this, args)
  }

  proto.end = function end (chunk, encoding) {
    const state = states.get(this)
    if (state === undefined) return nextEnd.apply(this, arguments)
    if (state.ended) return false
    state.ended = true
    return onEnd(state, this, endThenForget, nextWrite, chunk, encoding)
  }

  // The end the commit calls: the response's state is needed until it
  // returns (the headers may go out in it), and never after.
  function endThenForget () {
    const ret = nextEnd.apply(this, arguments)
    states.delete(this)
    return ret
  }
}

// on-headers' behaviour: headers passed to writeHead are set on the response
// first, so the hook sees them; the status and reason phrase go on.
function headersGiven (res, args) {
  const length = args.length
  const headerIndex = length > 1 && typeof args[1] === 'string' ? 2 : 1
  const headers = length >= headerIndex + 1 ? args[headerIndex] : undefined
  res.statusCode = args[0]
  if (Array.isArray(headers)) {
    setHeaderList(res, headers)
  } else if (headers) {
    for (const name of Object.keys(headers)) {
      if (name) res.setHeader(name, headers[name])
    }
  }
  const leading = new Array(Math.min(length, headerIndex))
  for (let i = 0; i < leading.length; i++) leading[i] = args[i]
  return leading
}

// `[[name, value], ...]` or `[name, value, name, value, ...]`; in the flat
// form a name given twice keeps both values (replacing what was set before).
function setHeaderList (res, headers) {
  if (headers.length && Array.isArray(headers[0])) {
    for (const [name, value] of headers) {
      if (name) res.setHeader(name, value)
    }
    return
  }
  if (headers.length % 2 !== 0) throw new TypeError('headers array is malformed')
  for (let i = 0; i < headers.length; i += 2) res.removeHeader(headers[i])
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]) res.appendHeader(headers[i], headers[i + 1])
  }
}

// express-session's way: wrappers on this response alone.
function hookEach (state, res, onHeadersOf, onEnd) {
  onHeaders(res, function () {
    onHeadersOf(state)
  })
  const end = res.end
  const write = res.write
  res.end = function (chunk, encoding) {
    if (state.ended) return false
    state.ended = true
    return onEnd(state, res, end, write, chunk, encoding)
  }
}

module.exports = { hookResponse }
