'use strict'

// Dirty tracking for one request's session.
//
// express-session hashes the whole session at load, at save and at the end of
// every request. Here `req.session` is a Proxy that counts writes and deletes
// (`generation`), and so are the plain objects and arrays inside it, which are
// handed out wrapped in Proxies of their own. What cannot be watched marks the
// session `escaped`: an object handed in by the app (the app keeps a reference)
// or one that is not plain data (a Date, a Map, a class instance), since it may
// change with no trap firing. While nothing escaped and the generation is the
// one a snapshot saw, the session is unchanged and nothing is serialized.
// Otherwise the session's JSON without `cookie` is compared with what it was, as
// express-session does with a hash: as text when both split at the cookie (see
// lib/session-json.js), else by a native SHA-256 digest.

const native = require('./native')
// Called through the module, so tests can count serializations.
const sessionJson = require('./session-json')
const ScopedOffer = require('./scoped')

// A session's tracker, answered for this key by its Proxy (no property on the
// Session, none on `req`): Express changes the prototype of every request, and
// V8 then makes a new map for the request at each property added to it, which
// costs about 25,000 instructions a property over HTTP (callgrind; a WeakMap
// keyed by the request measured worse still). The middleware names the tracker
// while it makes a request's first session; later ones (regenerate, reload)
// take it from the session they replace.
const kTracker = Symbol('express-session-rs.tracker')

const making = new ScopedOffer()

/** Runs `make` with `tracker` as the tracker of sessions made for `req`. */
function makingSession (req, tracker, make) {
  return making.during(req, tracker, make)
}

/** The tracker a new Session of `req` belongs to, if any. */
function trackerFor (req) {
  const named = making.valueFor(req)
  if (named !== undefined) return named
  const current = req.session
  return typeof current === 'object' && current !== null ? current[kTracker] : undefined
}

const EMPTY_SESSION_DIGEST = native.sessionDigestOf('{}')

class SessionTracker {
  constructor () {
    this.generation = 0
    this.escaped = false
    this.current = undefined
    this.currentTarget = undefined
    // A snapshot taken without JSON at hand is filled in just before the first
    // change, when the session still holds what it recorded.
    this.pending = null
    // Snapshots of the session as loaded and as last saved (express-session's
    // originalHash and savedHash).
    this.original = null
    this.saved = null
    // The session as loaded from a native store (`original` has its stored
    // cookie), so a touch that changes only the expiry can be done in place.
    this.loaded = undefined
    this.rootHandler = new SessionWatcher(this)
    this.nestedHandler = null
    this.nestedProxies = null
    // A serialization made while a decision window is open (the end of the
    // request, or the moment headers go out) is reused within it.
    this.windowDepth = 0
    this.windowSession = undefined
    this.windowJson = undefined
    this.windowDigest = undefined
  }

  /** Wraps a new Session of this request; the latest one is `current`. */
  watch (session) {
    const proxy = new Proxy(session, this.rootHandler)
    this.changed()
    this.current = proxy
    this.currentTarget = session
    return proxy
  }

  /**
   * What `session` wraps when it is the watched current session: for the
   * middleware's own reads, which need no tracking and would each trip a trap.
   */
  raw (session) {
    return session === this.current ? this.currentTarget : session
  }

  /** The watched stand-in for a plain object or array inside the session. */
  watchNested (value) {
    if (!this.nestedProxies) {
      this.nestedProxies = new WeakMap()
      this.nestedHandler = new NestedWatcher(this)
    }
    let proxy = this.nestedProxies.get(value)
    if (!proxy) {
      proxy = new Proxy(value, this.nestedHandler)
      this.nestedProxies.set(value, proxy)
    }
    return proxy
  }

  /** What a read of `value` hands to the app. */
  handOut (value) {
    if (this.escaped || typeof value !== 'object' || value === null) return value
    if (isPlainData(value)) return this.watchNested(value)
    this.escape()
    return value
  }

  /** A write of `value`; an object the app hands in stays in its hands too. */
  handIn (value) {
    this.changed()
    if (typeof value === 'object' && value !== null) this.escape()
  }

  changed () {
    this.settlePending()
    this.generation++
    this.windowSession = undefined
  }

  escape () {
    this.settlePending()
    this.escaped = true
  }

  settlePending () {
    if (this.pending) {
      // The target, not the Proxy: serializing must not trip the traps.
      const { json, data } = sessionJson.serializeSession(this.currentTarget)
      this.pending.json = json
      this.pending.data = data
      this.pending.dataKnown = true
      this.pending = null
    }
  }

  /**
   * The state as it is now, given as JSON text when it is at hand (with the
   * stored cookie as parsed from it, to find where the cookie ends).
   */
  snapshot (json, storedCookie) {
    const snapshot = {
      generation: this.generation,
      json,
      storedCookie,
      data: undefined,
      dataKnown: false,
      digest: undefined
    }
    if (json === undefined) {
      this.settlePending()
      this.pending = snapshot
    }
    return snapshot
  }

  /** A snapshot of a session that holds nothing but its cookie. */
  emptySnapshot () {
    return {
      generation: this.generation,
      json: undefined,
      storedCookie: undefined,
      data: '}',
      dataKnown: true,
      digest: EMPTY_SESSION_DIGEST
    }
  }

  /** Whether `session` still holds what `snapshot` recorded. */
  unchangedSince (snapshot, session) {
    if (!snapshot) return false
    if (session === this.current && !this.escaped && snapshot.generation === this.generation) {
      return true
    }
    if (session == null) return false
    const now = this.serialized(session)
    const before = this.dataOf(snapshot)
    // Both split at the cookie: compare the rest as text, no digest needed.
    if (before !== undefined && now.data !== undefined) return before === now.data
    return this.digestOf(snapshot) === this.digest(session, now)
  }

  /** Records `session` as saved and returns its JSON for the store. */
  recordSave (session) {
    const { json, data } = this.serialized(session)
    const saved = this.snapshot(json)
    saved.data = data
    saved.dataKnown = true
    if (this.windowDepth > 0 && session === this.windowSession) saved.digest = this.windowDigest
    this.saved = saved
    return json
  }

  openWindow () {
    if (this.windowDepth++ === 0) this.windowSession = undefined
  }

  closeWindow () {
    if (--this.windowDepth > 0) return
    this.windowSession = undefined
    this.windowSerialized = undefined
    this.windowDigest = undefined
  }

  /** `{ json, data }` of `session` (see lib/session-json.js), once per window. */
  serialized (session) {
    if (this.windowDepth > 0 && session === this.windowSession) return this.windowSerialized
    // Through the Proxy every property read would be trapped: serialize what it wraps.
    const serialized = sessionJson.serializeSession(session === this.current ? this.currentTarget : session)
    if (this.windowDepth > 0) {
      this.windowSession = session
      this.windowSerialized = serialized
      this.windowDigest = undefined
    }
    return serialized
  }

  // The digest of the session's JSON (cookie left out), when the text does not
  // split at the cookie and so cannot be compared directly.
  digest (session, serialized) {
    if (serialized.json === undefined) return undefined
    if (this.windowDepth > 0 && session === this.windowSession) {
      if (this.windowDigest === undefined) this.windowDigest = native.sessionDigestOf(serialized.json)
      return this.windowDigest
    }
    return native.sessionDigestOf(serialized.json)
  }

  dataOf (snapshot) {
    if (snapshot === this.pending) this.settlePending()
    if (!snapshot.dataKnown) {
      snapshot.data = sessionJson.dataPartOf(snapshot.json, snapshot.storedCookie)
      snapshot.dataKnown = true
    }
    return snapshot.data
  }

  digestOf (snapshot) {
    if (snapshot === this.pending) this.settlePending()
    if (snapshot.digest === undefined) snapshot.digest = native.sessionDigestOf(snapshot.json)
    return snapshot.digest
  }
}

// Objects and arrays as JSON.parse makes them: safe to stand behind a Proxy.
function isPlainData (value) {
  if (Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

// Handlers shared by every Proxy of one request.
class NestedWatcher {
  constructor (tracker) {
    this.tracker = tracker
  }

  get (target, key, receiver) {
    return this.tracker.handOut(Reflect.get(target, key, receiver))
  }

  getOwnPropertyDescriptor (target, key) {
    const descriptor = Reflect.getOwnPropertyDescriptor(target, key)
    // Descriptors must report the real value, so that value is out of sight.
    if (descriptor && typeof descriptor.value === 'object' && descriptor.value !== null) {
      this.tracker.escape()
    }
    return descriptor
  }

  set (target, key, value) {
    this.tracker.handIn(value)
    return Reflect.set(target, key, value)
  }

  defineProperty (target, key, descriptor) {
    this.tracker.handIn(descriptor.value)
    // A property that may not change would break the Proxy's promises on reads.
    if (descriptor.configurable === false) this.tracker.escape()
    return Reflect.defineProperty(target, key, descriptor)
  }

  deleteProperty (target, key) {
    this.tracker.changed()
    return Reflect.deleteProperty(target, key)
  }
}

// The session itself: `cookie` is left out of the digest and `req` is not data,
// so both are handed out as they are.
class SessionWatcher extends NestedWatcher {
  get (target, key, receiver) {
    if (key === kTracker) return this.tracker
    const value = Reflect.get(target, key, receiver)
    return key === 'cookie' || key === 'req' ? value : this.tracker.handOut(value)
  }

  getOwnPropertyDescriptor (target, key) {
    if (key === 'cookie' || key === 'req') return Reflect.getOwnPropertyDescriptor(target, key)
    return super.getOwnPropertyDescriptor(target, key)
  }

  set (target, key, value) {
    if (key === 'cookie') {
      this.tracker.changed()
      return Reflect.set(target, key, value)
    }
    return super.set(target, key, value)
  }
}

module.exports = { SessionTracker, kTracker, makingSession, trackerFor }
