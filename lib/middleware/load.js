'use strict'

// From the request's session ID to `req.session`: a new session when there is
// no ID or the store has none for it, else the stored one, loaded through the
// store adapter and watched by the request's tracker.

const debug = require('debug')('express-session-rs')
const Cookie = require('../cookie')
const Session = require('../session')
const { makingSession, CREATED_AT } = require('../tracking/tracker')
const { issecure } = require('./cookie')

/** Loads `req.session` for `state`'s request, then calls `next` (with an error, if any). */
function loadSession (state) {
  const req = state.req
  const next = state.next

  if (!req.sessionID) {
    debug('no SID sent, generating session')
    generateThenNext(state)
    return
  }

  debug('fetching %s', req.sessionID)

  const settings = state.settings
  settings.storeAccess.load(req.sessionID, function loaded (err, stored, json, version) {
    if (err) {
      debug('error %s', describeError(err))
      next(err)
      return
    }

    if (stored && settings.absoluteTimeout !== undefined && outlived(stored, settings.absoluteTimeout)) {
      debug('session %s is older than absoluteTimeout: ended', req.sessionID)
      settings.metrics.absoluteExpired++
      settings.storeAccess.destroy(req.sessionID, function destroyed (err) {
        if (err) {
          next(err)
          return
        }
        generateThenNext(state)
      })
      return
    }

    try {
      if (!stored) {
        debug('no session found')
        settings.metrics.notFound++
        generate(state)
      } else {
        debug('session found')
        settings.metrics.loaded++
        inflate(state, stored, json, version)
      }
    } catch (e) {
      next(e)
      return
    }

    next()
  })
}

/**
 * Gives the store express-session's `generate(req)`: a new ID and an empty
 * session with the request's cookie options. Stores call it from `regenerate`.
 */
function installGenerate (settings) {
  settings.store.generate = function (req) {
    req.sessionID = settings.generateId(req)
    req.session = new Session(req)
    const resolved = settings.cookieOptionsFor(req)
    req.session.cookie = new Cookie(resolved)
    if (settings.absoluteTimeout !== undefined) req.session[CREATED_AT] = Date.now()

    const isSecure = issecure(req, settings.trustProxy)

    if (resolved.secure === 'auto') {
      req.session.cookie.secure = isSecure
    }

    if (resolved.sameSite === 'auto') {
      req.session.cookie.sameSite = isSecure ? 'none' : 'lax'
    }
  }
}

function generateThenNext (state) {
  try {
    generate(state)
  } catch (err) {
    state.next(err)
    return
  }
  state.next()
}

function generate (state) {
  const req = state.req
  const tracker = state.tracker
  state.settings.metrics.created++
  makingSession(req, tracker, () => state.settings.store.generate(req))
  // With a creation time the session holds more than its cookie.
  tracker.original = state.settings.absoluteTimeout === undefined ? tracker.emptySnapshot() : tracker.snapshot()
  state.originalId = req.sessionID
}

// Whether a stored session was created longer than `timeout` ms ago.
function outlived (stored, timeout) {
  const created = stored[CREATED_AT]
  return typeof created === 'number' && Date.now() - created > timeout
}

// An error as DEBUG prints it: its message and code, which `%j` leaves out.
function describeError (err) {
  if (!(err instanceof Error)) return String(err)
  return err.code ? `${err.message} (${err.code})` : err.message
}

// `json`: the stored text, when the session came through the native-store
// protocol: a save is then conditional on it, and a touch may patch the
// expiry of the cookie the store holds.
function inflate (state, stored, json, version) {
  const req = state.req
  const tracker = state.tracker
  tracker.loadedCookie = stored.cookie
  makingSession(req, tracker, () => state.settings.store.createSession(req, stored))
  watchForeignSession(state)
  state.originalId = req.sessionID
  tracker.storedId = req.sessionID
  tracker.storedJson = json
  tracker.storedVersion = version
  const native = json !== undefined
  tracker.original = native ? tracker.storedSnapshot(json) : tracker.snapshot()
  if (native) tracker.loadedNatively = req.session

  if (!state.settings.resave) {
    tracker.saved = tracker.original
  }

  // Sessions from before absoluteTimeout was set count from now (and are saved).
  if (state.settings.absoluteTimeout !== undefined && typeof tracker.target(req.session)[CREATED_AT] !== 'number') {
    req.session[CREATED_AT] = Date.now()
  }
}

// Stores built on express-session's own Store (its createSession) give
// express-session's Session: watch it as well, and note its saves.
function watchForeignSession (state) {
  const req = state.req
  const tracker = state.tracker
  const sess = req.session
  if (sess === tracker.current || typeof sess !== 'object' || sess === null) return
  const foreignSave = sess.save
  Object.defineProperty(sess, 'save', {
    configurable: true,
    enumerable: false,
    writable: true,
    value: function save (fn) {
      const target = tracker.target(this)
      tracker.recordSaveDuring(target, () => foreignSave.call(target, fn))
      return this
    }
  })
  req.session = tracker.watch(sess)
}

module.exports = { loadSession, installGenerate }
