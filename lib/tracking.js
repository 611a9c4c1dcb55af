'use strict'

// Dirty tracking for one request's session.
//
// express-session hashes the whole session at load, at save and at the end of
// every request. Here `req.session` is a Proxy that counts top-level writes and
// deletes (`generation`) and notes when an object inside the session has been
// handed out or handed in (`escaped`), since that object may change with no
// trap firing. While nothing escaped and the generation is the one a snapshot
// saw, the session is unchanged and nothing is serialized. Otherwise the digest
// of the session's JSON (without `cookie`) is compared, as express-session does.

const native = require('./native')

const kTracker = Symbol('express-session-rs.tracker')

const EMPTY_SESSION_DIGEST = native.sessionDigestOf('{}')

class SessionTracker {
  constructor () {
    this.generation = 0
    this.escaped = false
    this.current = undefined
    // Snapshots of the session as loaded and as last saved (express-session's
    // originalHash and savedHash).
    this.original = null
    this.saved = null
    this.handler = new SessionWatcher(this)
    // Serialization made during one decision window (the end of the request),
    // reused by the save that follows it.
    this.windowOpen = false
    this.windowSession = undefined
    this.windowJson = undefined
    this.windowDigest = undefined
  }

  /** Wraps a new Session of this request; the latest one is `current`. */
  watch (session) {
    const proxy = new Proxy(session, this.handler)
    this.current = proxy
    this.changed()
    return proxy
  }

  changed () {
    this.generation++
    this.windowSession = undefined
  }

  /** The state as it is now, given as JSON text when it is at hand. */
  snapshot (json) {
    return { generation: this.generation, json, digest: undefined }
  }

  /** A snapshot of a session that holds nothing but its cookie. */
  emptySnapshot () {
    return { generation: this.generation, json: undefined, digest: EMPTY_SESSION_DIGEST }
  }

  /** Whether `session` still holds what `snapshot` recorded. */
  unchangedSince (snapshot, session) {
    if (!snapshot) return false
    if (session === this.current && !this.escaped && snapshot.generation === this.generation) {
      return true
    }
    return digestOf(snapshot) === this.digest(session)
  }

  /** Records `session` as saved and returns its JSON for the store. */
  recordSave (session) {
    const json = this.json(session)
    const saved = this.snapshot(json)
    if (this.windowOpen && session === this.windowSession) saved.digest = this.windowDigest
    this.saved = saved
    return json
  }

  openWindow () {
    this.windowOpen = true
    this.windowSession = undefined
  }

  closeWindow () {
    this.windowOpen = false
    this.windowSession = undefined
    this.windowJson = undefined
    this.windowDigest = undefined
  }

  json (session) {
    if (this.windowOpen && session === this.windowSession) return this.windowJson
    const json = JSON.stringify(session)
    if (this.windowOpen) {
      this.windowSession = session
      this.windowJson = json
      this.windowDigest = undefined
    }
    return json
  }

  digest (session) {
    if (session == null) return undefined
    const json = this.json(session)
    if (json === undefined) return undefined
    if (this.windowOpen && session === this.windowSession) {
      if (this.windowDigest === undefined) this.windowDigest = native.sessionDigestOf(json)
      return this.windowDigest
    }
    return native.sessionDigestOf(json)
  }
}

function digestOf (snapshot) {
  if (snapshot.digest === undefined) snapshot.digest = native.sessionDigestOf(snapshot.json)
  return snapshot.digest
}

function isObject (value) {
  return typeof value === 'object' && value !== null
}

// The Proxy handler: every change and every object that crosses the boundary
// is reported to the tracker. The cookie is left out, like from the digest.
class SessionWatcher {
  constructor (tracker) {
    this.tracker = tracker
  }

  get (target, key, receiver) {
    const value = Reflect.get(target, key, receiver)
    if (isObject(value) && key !== 'cookie') this.tracker.escaped = true
    return value
  }

  getOwnPropertyDescriptor (target, key) {
    const descriptor = Reflect.getOwnPropertyDescriptor(target, key)
    if (descriptor && isObject(descriptor.value) && key !== 'cookie') this.tracker.escaped = true
    return descriptor
  }

  set (target, key, value) {
    this.tracker.changed()
    if (isObject(value) && key !== 'cookie') this.tracker.escaped = true
    return Reflect.set(target, key, value)
  }

  defineProperty (target, key, descriptor) {
    this.tracker.changed()
    if (isObject(descriptor.value) && key !== 'cookie') this.tracker.escaped = true
    return Reflect.defineProperty(target, key, descriptor)
  }

  deleteProperty (target, key) {
    this.tracker.changed()
    return Reflect.deleteProperty(target, key)
  }
}

module.exports = { SessionTracker, kTracker }
