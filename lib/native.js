'use strict'

// The compiled addon, loaded once through the loader `napi build --platform`
// generates. When no binary fits, say which package was expected and why it
// may be missing, instead of the loader's generic message.

const { platformPackage } = require('./platform')

let binding
try {
  binding = require('../binding.js')
} catch (err) {
  const expected = platformPackage()
  const error = new Error(
    `express-session-rs: no native binary could be loaded for ${process.platform}-${process.arch}. ` +
    `It comes in the package "${expected}", which npm installs as an optional dependency: ` +
    'check that optional dependencies were not omitted (--omit=optional, --no-optional) and that ' +
    'the lockfile was not made on another platform, then reinstall. Without a prebuilt binary for ' +
    'this platform, build it from a checkout with a Rust toolchain: npm run build.'
  )
  error.code = 'ERR_EXPRESS_SESSION_RS_NO_BINARY'
  error.cause = nativeLoadErrors(err)
  throw error
}

// What the generated loader tried for this platform's binary, without its
// attempts at a WebAssembly build (none is published) and its general advice
// (an npm bug link), which point the wrong way here.
function nativeLoadErrors (err) {
  const messages = []
  for (let e = err && err.cause; e; e = e.cause) {
    if (typeof e.message === 'string' && !/wasi|wasm/i.test(e.message)) messages.unshift(e.message)
  }
  return new Error(messages.length ? messages.join('\n') : String(err && err.message))
}

// The codec and the memory store live in Rust behind an External handle, and
// their functions take it as first argument (cheaper per call than napi-rs class
// methods; see src/binding/). These classes give them back a method-call shape.

/** Reads and writes the signed session cookie: `name` and the secrets are fixed. */
class SessionCookieCodec {
  constructor (name, secrets) {
    this.handle = binding.createCodec(name, secrets)
  }

  readId (header) {
    return binding.codecReadId(this.handle, header)
  }

  unsign (value) {
    return binding.codecUnsign(this.handle, value)
  }

  setCookie (id, expires, domain, path, httpOnly, secure, partitioned, priority, sameSite) {
    return binding.codecSetCookie(this.handle, id, expires, domain, path, httpOnly, secure,
      partitioned, priority, sameSite)
  }

  setCookieExpiring (id, expires) {
    return binding.codecSetCookieExpiring(this.handle, id, expires)
  }
}

/** The native MemoryStore's sessions (lib/memory.js gives them the Store API). */
class NativeMemoryStore {
  constructor (max) {
    this.handle = binding.createMemoryStore(max)
  }

  get (sid, now) {
    return binding.memoryGet(this.handle, sid, now)
  }

  /** The version of the session the last `get` returned (0: none). */
  lastVersion () {
    return binding.memoryLastVersion()
  }

  set (sid, json, expires) {
    return binding.memorySet(this.handle, sid, json, expires)
  }

  /** A conditional set (lib/stores/protocol.js): the new version, null or the stored JSON. */
  save (sid, json, expires, now, condition, expected) {
    return binding.memorySave(this.handle, sid, json, expires, now, condition, expected)
  }

  /** Moves a session to a new ID in one step: its new version, null or the JSON under `newSid`. */
  rotate (oldSid, newSid, json, expires, now) {
    return binding.memoryRotate(this.handle, oldSid, newSid, json, expires, now)
  }

  touch (sid, cookieJson, expires, now) {
    return binding.memoryTouch(this.handle, sid, cookieJson, expires, now)
  }

  touchExpires (sid, expires, now) {
    return binding.memoryTouchExpires(this.handle, sid, expires, now)
  }

  destroy (sid) {
    return binding.memoryDestroy(this.handle, sid)
  }

  clear () {
    return binding.memoryClear(this.handle)
  }

  length (now) {
    return binding.memoryLength(this.handle, now)
  }

  allJson (now) {
    return binding.memoryAllJson(this.handle, now)
  }

  sweep (now, budget) {
    return binding.memorySweep(this.handle, now, budget)
  }
}

module.exports = { ...binding, SessionCookieCodec, NativeMemoryStore }
