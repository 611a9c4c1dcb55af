'use strict'

// Dirty tracking: whether a request changed its session, answered without
// serializing it when possible. express-session hashes the whole session at
// load, at save and at the end of every request; here:
//
// - Watchers (watchers.js). `req.session` is a Proxy, and so is every plain
//   object or array read from it. Each write or delete bumps the tracker's
//   `generation` and is logged at its path (changedPaths()). A value the Proxy
//   cannot watch makes the session `untrackable` and is logged as written
//   whole where it sits: an object handed in by the app (the app keeps a
//   reference) or one that is not plain data (a Date, a Map, a class instance).
// - The change log. A commit that finds the stored session changed by another
//   request re-applies these paths onto it (merge.js) instead of overwriting.
// - Snapshots. The session as loaded (`original`) and as last saved (`saved`),
//   express-session's two hashes. A snapshot is a generation plus, once
//   needed, the session's data as JSON text without the cookie (session-json.js).
//   While the session is trackable and at the snapshot's generation, it is
//   unchanged and nothing is serialized. A session loaded from a native store
//   gets as its text the stored JSON's tail after the cookie (session-json.js's
//   dataStart); any other, the text made just before the first change (or the
//   first loss of tracking), so read-only requests never serialize.
// - Decisions. The response hooks ask "modified? saved?" several times in one
//   synchronous stretch; between `beginDecision` and `endDecision` the
//   session is serialized at most once.
// - Handoffs (handoff.js). The Session constructor finds its request's tracker,
//   and a store's `set` the JSON `Session#save` already made, through a value
//   handed over for the span of one synchronous call.

const sessionJson = require('./session-json')
const CallHandoff = require('./handoff')
const { SessionWatcher, CreationHidingWatcher, NestedWatcher, isPlainData, kTracker, CREATED_AT } = require('./watchers')

const trackerHandoff = new CallHandoff()
const jsonHandoff = new CallHandoff()

/** Runs `make` with `tracker` as the tracker of sessions made for `req`. */
function makingSession (req, tracker, make) {
  return trackerHandoff.during(req, tracker, make)
}

/** The tracker a new Session of `req` belongs to, if any. */
function trackerFor (req) {
  const named = trackerHandoff.valueFor(req)
  if (named !== undefined) return named
  // Later sessions (regenerate, reload) take it from the one they replace.
  const current = req.session
  return typeof current === 'object' && current !== null ? current[kTracker] : undefined
}

/** The JSON a store's `set` should write for `session`. */
function jsonForStore (session) {
  const json = jsonHandoff.valueFor(session)
  return json !== undefined ? json : sessionJson.serializeSession(session).json
}

// The data of a session that holds nothing but its cookie.
const EMPTY_DATA = '}'

class Snapshot {
  constructor (generation, data) {
    this.generation = generation
    // Undefined until needed (see `pending` and storedSnapshot below).
    this.data = data
    // The stored JSON whose tail is `data`, until that is found.
    this.storedText = undefined
  }
}

const COOKIE_FIRST = '{"cookie":'

// Past this many logged writes, repeats are dropped from the log.
const MAX_LOG_BEFORE_COMPACTING = 1024

// A snapshot's data, from its stored text the first time it is asked for. Text
// that does not split there (never JSON.stringify's) leaves it undefined, which
// compares as changed: a save too many, never one too few.
function dataOf (snapshot) {
  if (snapshot.data === undefined && snapshot.storedText !== undefined) {
    const text = snapshot.storedText
    snapshot.storedText = undefined
    const start = sessionJson.dataStart(text)
    if (start >= 0) snapshot.data = text.slice(start)
  }
  return snapshot.data
}

class SessionTracker {
  /** @param {boolean} [hidesCreation] the session carries a creation time the app must not see */
  constructor (hidesCreation) {
    this.generation = 0
    this.untrackable = false
    // The latest session made for the request: its Proxy and what it wraps.
    this.current = undefined
    this.currentTarget = undefined
    // What was written or deleted since the session was loaded or last saved,
    // as (watcher, key) pairs: the paths are made only if a save must merge.
    this.changedWatchers = []
    this.changedKeys = []
    // A snapshot whose data is made just before the first change.
    this.pending = null
    this.original = null
    this.saved = null
    // What the store holds as far as this request knows: the session `storedId`
    // as the JSON text `storedJson` (undefined: unknown), for conditional saves
    // (lib/middleware/save.js); and the request whose session this is.
    this.storedId = undefined
    this.storedJson = undefined
    // The version a store gave with storedJson, which a save then expects.
    this.storedVersion = undefined
    // The stored session's cookie as the store gave it (any store), for touchAfter.
    this.loadedCookie = undefined
    // The ID a regenerate that kept the data replaces, until the new one is saved.
    this.rotateFrom = undefined
    this.requestState = null
    // The session as loaded from a native store, whose stored cookie is
    // `loadedCookie`, so a touch that moves only the expiry can patch it.
    this.loadedNatively = undefined
    this.sessionWatcher = hidesCreation ? new CreationHidingWatcher(this) : new SessionWatcher(this)
    this.nestedProxies = null
    this.decisionDepth = 0
    this.decisionSession = undefined
    this.decisionSerialized = undefined
  }

  /** Wraps a new Session of this request; the latest one is `current`. */
  watch (session) {
    const proxy = new Proxy(session, this.sessionWatcher)
    this.changed(null)
    this.current = proxy
    this.currentTarget = session
    // What a commit re-applies is relative to this session.
    this.forgetChanges()
    return proxy
  }

  /**
   * What `session` wraps when it is the watched current session: for the
   * middleware's own reads, which need no tracking and would each trip a trap.
   */
  target (session) {
    return session === this.current ? this.currentTarget : session
  }

  /** What a read of `value` at `key` of what `watcher` watches hands to the app. */
  handOut (value, watcher, key) {
    if (typeof value !== 'object' || value === null) return value
    if (isPlainData(value)) {
      return this.untrackable ? value : this.watchNested(value, watcher, key)
    }
    this.lose(watcher, key)
    return value
  }

  /** A write of `value` at `key`; an object the app hands in stays in its hands too. */
  handIn (value, watcher, key) {
    this.changed(watcher, key)
    if (typeof value === 'object' && value !== null) this.lose(watcher, key)
  }

  /** A write or delete at `key` of what `watcher` watches (none: not data). */
  changed (watcher, key) {
    this.settlePending()
    this.generation++
    this.decisionSession = undefined
    if (watcher) this.log(watcher, key)
  }

  /** From now on, the value at `key` may change unseen. */
  lose (watcher, key) {
    this.settlePending()
    this.untrackable = true
    if (watcher) this.log(watcher, key)
  }

  log (watcher, key) {
    // Symbols are not data: JSON leaves them out.
    if (typeof key === 'symbol') return
    this.changedWatchers.push(watcher)
    this.changedKeys.push(key)
    // An app that writes in a loop: keep the log as long as its distinct paths.
    if (this.changedKeys.length > MAX_LOG_BEFORE_COMPACTING) this.compactChanges()
  }

  /** The paths (arrays of keys) written or deleted, each once, in first-write order. */
  changedPaths () {
    const seen = new Set()
    const paths = []
    for (let i = 0; i < this.changedKeys.length; i++) {
      const path = this.changedWatchers[i].pathOf(this.changedKeys[i])
      const key = path.join('\0')
      if (seen.has(key)) continue
      seen.add(key)
      paths.push(path)
    }
    return paths
  }

  compactChanges () {
    const watchers = []
    const keys = []
    const seen = new Set()
    for (let i = 0; i < this.changedKeys.length; i++) {
      const key = this.changedWatchers[i].pathOf(this.changedKeys[i]).join('\0')
      if (seen.has(key)) continue
      seen.add(key)
      watchers.push(this.changedWatchers[i])
      keys.push(this.changedKeys[i])
    }
    this.changedWatchers = watchers
    this.changedKeys = keys
  }

  forgetChanges () {
    this.changedWatchers = []
    this.changedKeys = []
  }

  /** A snapshot of the session as it is now, its data made when first needed. */
  snapshot () {
    this.settlePending()
    const snapshot = new Snapshot(this.generation, undefined)
    this.pending = snapshot
    return snapshot
  }

  /**
   * A snapshot of a session as loaded from `json` (its stored text): its data
   * is that text's tail, found only if a change makes the dirty check compare
   * (session-json.js's dataStart), so the session is never serialized as it was.
   * Text that does not start with its cookie gets a snapshot() instead.
   */
  storedSnapshot (json) {
    if (!json.startsWith(COOKIE_FIRST)) return this.snapshot()
    this.settlePending()
    const snapshot = new Snapshot(this.generation, undefined)
    snapshot.storedText = json
    return snapshot
  }

  /** A snapshot of a session that holds nothing but its cookie. */
  emptySnapshot () {
    return new Snapshot(this.generation, EMPTY_DATA)
  }

  /** Whether `session` still holds what `snapshot` recorded. */
  unchangedSince (snapshot, session) {
    if (!snapshot) return false
    if (session === this.current && !this.untrackable && snapshot.generation === this.generation) {
      return true
    }
    if (session == null) return false
    if (snapshot === this.pending) this.settlePending()
    return dataOf(snapshot) === this.serialized(session).data
  }

  /** Records `session` as saved and returns its JSON for the store. */
  recordSave (session) {
    const { json, data } = this.serialized(session)
    this.saved = new Snapshot(this.generation, data)
    return json
  }

  /**
   * After a save the store holds the session: later commits re-apply only
   * what changes after it. Values the app still holds unseen stay logged.
   */
  clearChanges () {
    if (!this.untrackable) this.forgetChanges()
  }

  /** Records `session` as saved and runs `write`, which reaches a store's `set`. */
  recordSaveDuring (session, write) {
    return jsonHandoff.during(session, this.recordSave(session), write)
  }

  beginDecision () {
    if (this.decisionDepth++ === 0) this.decisionSession = undefined
  }

  endDecision () {
    if (--this.decisionDepth > 0) return
    this.decisionSession = undefined
    this.decisionSerialized = undefined
  }

  // `{ json, data }` of `session` (its Proxy or what it wraps), once per decision.
  serialized (session) {
    const target = this.target(session)
    if (this.decisionDepth > 0 && target === this.decisionSession) return this.decisionSerialized
    const serialized = sessionJson.serializeSession(target)
    if (this.decisionDepth > 0) {
      this.decisionSession = target
      this.decisionSerialized = serialized
    }
    return serialized
  }

  settlePending () {
    if (this.pending) {
      // The target, not the Proxy: serializing must not trip the traps.
      this.pending.data = sessionJson.serializeData(this.currentTarget)
      this.pending = null
    }
  }

  watchNested (value, parent, key) {
    if (!this.nestedProxies) this.nestedProxies = new WeakMap()
    let proxy = this.nestedProxies.get(value)
    if (!proxy) {
      proxy = new Proxy(value, new NestedWatcher(this, parent, key, Array.isArray(value)))
      this.nestedProxies.set(value, proxy)
    }
    return proxy
  }
}

module.exports = { SessionTracker, kTracker, makingSession, trackerFor, jsonForStore, CREATED_AT }
