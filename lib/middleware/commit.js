'use strict'

// The response hooks: when the headers go out, the Set-Cookie; when the
// response ends, the commit (save, touch or destroy), with the last byte held
// back until the store has answered, so the client cannot race the write. The
// decisions are express-session's functions of the same names.

const debug = require('debug')('express-session-rs')
const { hookResponse: hookResponseWith } = require('./response-hooks')
const Session = require('../session')
const { setcookie, issecure } = require('./cookie')
const { conditionalSave } = require('./save')

const defer = setImmediate

/** Hooks `state`'s response: the cookie at its headers, the commit at its end. */
function hookResponse (state) {
  hookResponseWith(state, state.res, writeCookieHeader, commitAndEnd)
}

function writeCookieHeader (state) {
  const req = state.req
  if (!req.session) {
    debug('no session')
    return
  }

  // A new session the store failed to save: no cookie names it.
  if (state.unsaved) {
    debug('not saved: no cookie')
    return
  }

  const tracker = state.tracker
  tracker.beginDecision()
  try {
    if (!shouldSetCookie(state)) {
      return
    }

    const target = tracker.target(req.session)

    // Secure cookies only go out over https.
    if (target.cookie.secure && !issecure(req, state.settings.trustProxy)) {
      debug('not secured')
      return
    }

    touchOnce(state, target)

    try {
      setcookie(state.res, state.codec, req.sessionID, target.cookie)
    } catch (err) {
      defer(state.next, err)
    }
  } finally {
    tracker.endDecision()
  }
}

function commitAndEnd (state, res, _end, _write, chunk, encoding) {
  const req = state.req
  const settings = state.settings
  const storeAccess = settings.storeAccess
  let ret
  let sync = true

  // Ends the response: at once when the store answered synchronously, else
  // with the byte writetop kept back.
  function writeend () {
    if (sync) {
      ret = _end.call(res, chunk, encoding)
      sync = false
      return
    }

    _end.call(res)
  }

  // Writes all of the body but its last byte while the store works.
  function writetop () {
    if (!sync) {
      return ret
    }

    if (!res._header) {
      res._implicitHeader()
    }

    if (chunk == null) {
      ret = true
      return ret
    }

    const contentLength = Number(res.getHeader('Content-Length'))

    if (!isNaN(contentLength) && contentLength > 0) {
      chunk = !Buffer.isBuffer(chunk) ? Buffer.from(chunk, encoding) : chunk
      encoding = undefined

      if (chunk.length !== 0) {
        debug('split response')
        ret = _write.call(res, chunk.slice(0, chunk.length - 1))
        chunk = chunk.slice(chunk.length - 1, chunk.length)
        return ret
      }
    }

    ret = _write.call(res, chunk, encoding)
    sync = false

    return ret
  }

  function committed (err) {
    if (err) {
      defer(state.next, err)
    }
    writeend()
  }

  function savedNew (err) {
    if (err) state.unsaved = true
    committed(err)
  }

  if (shouldDestroy(state)) {
    debug('destroying')
    storeAccess.destroy(req.sessionID, function destroyed (err) {
      debug('destroyed')
      if (!err) settings.metrics.destroyed++
      committed(err)
    })
    return writetop()
  }

  if (!req.session) {
    debug('no session')
    return _end.call(res, chunk, encoding)
  }

  const tracker = state.tracker
  touchOnce(state, tracker.target(req.session))

  tracker.beginDecision()
  try {
    if (shouldSave(state)) {
      const sess = req.session
      const target = tracker.target(sess)
      debug('saving %s', target.id)
      // An app's own `save` is called as express-session would call it.
      // A session the store does not hold yet: its headers wait for the
      // save, so that a failed one sends no cookie for a session that is not.
      const holdHeaders = state.cookieId !== req.sessionID && !res._header
      const done = holdHeaders ? savedNew : committed
      if (target.save === Session.prototype.save && storeAccess.usesProtocolFor('set')) {
        conditionalSave(state, sess, done)
      } else {
        storeAccess.saveThroughSession(sess, function saved (err) {
          if (!err) settings.metrics.saved++
          done(err)
        })
      }
      return holdHeaders ? true : writetop()
    }

    if (storeAccess.canTouch && shouldTouch(state)) {
      if (touchedRecently(state)) {
        debug('touch left out: the store was written or touched within touchAfter')
        settings.metrics.touchSkipped++
        return _end.call(res, chunk, encoding)
      }
      debug('touching')
      const sess = req.session
      if (storeAccess.rewritesToTouch(settings, tracker)) {
        // The stored cookie must show the touch, or touchAfter could not tell it.
        conditionalSave(state, sess, committed, 'touched')
        return writetop()
      }
      // Loaded through the protocol and not replaced since: the store may
      // patch only the expiry of the cookie it holds.
      const storedCookie = sess === tracker.loadedNatively ? tracker.loadedCookie : undefined
      // Keeps the owner index alive as long as the session.
      if (settings.userOf !== undefined && storeAccess.usesProtocolFor('touch')) {
        try {
          settings.indexOwner(req.sessionID, tracker.target(sess))
        } catch (err) {
          defer(state.next, err)
        }
      }
      storeAccess.touch(req.sessionID, sess, tracker.target(sess), storedCookie, function touched (err) {
        if (!err) settings.metrics.touched++
        committed(err)
      })
      return writetop()
    }
  } finally {
    tracker.endDecision()
  }

  return _end.call(res, chunk, encoding)
}

// Moves the cookie's expiry once a response (express-session's
// `req.session.touch()`): straight on the target when its touch is the
// built-in one, which only resets `maxAge`; an app's own goes through the Proxy.
function touchOnce (state, target) {
  if (state.touched) return
  state.touched = true
  if (target.touch === Session.prototype.touch && target.resetMaxAge === Session.prototype.resetMaxAge) {
    const cookie = target.cookie
    cookie.maxAge = cookie.originalMaxAge
  } else {
    state.req.session.touch()
  }
}

// touchAfter: whether the stored session was written or touched so recently
// that its store touch may be left out. The stored cookie tells when: its
// expiry less its original max age.
function touchedRecently (state) {
  const touchAfter = state.settings.touchAfter
  const stored = state.tracker.loadedCookie
  if (touchAfter === undefined || !stored || typeof stored.originalMaxAge !== 'number' || !stored.expires) {
    return false
  }
  const written = new Date(stored.expires).getTime() - stored.originalMaxAge
  return Date.now() - written < touchAfter
}

function isModified (state, sess) {
  const tracker = state.tracker
  return state.originalId !== tracker.target(sess).id || !tracker.unchangedSince(tracker.original, sess)
}

function isSaved (state, sess) {
  const tracker = state.tracker
  return state.originalId === tracker.target(sess).id && tracker.unchangedSince(tracker.saved, sess)
}

function shouldDestroy (state) {
  const req = state.req
  return req.sessionID && state.settings.unsetDestroy && req.session == null
}

function shouldSave (state) {
  const req = state.req
  // cannot set cookie without a session ID
  if (typeof req.sessionID !== 'string') {
    debug('session ignored because of bogus req.sessionID %o', req.sessionID)
    return false
  }

  return !state.settings.saveUninitialized && !state.tracker.saved && state.cookieId !== req.sessionID
    ? isModified(state, req.session)
    : !isSaved(state, req.session)
}

function shouldTouch (state) {
  const req = state.req
  // cannot set cookie without a session ID
  if (typeof req.sessionID !== 'string') {
    debug('session ignored because of bogus req.sessionID %o', req.sessionID)
    return false
  }

  return state.cookieId === req.sessionID && !shouldSave(state)
}

function shouldSetCookie (state) {
  const req = state.req
  // cannot set cookie without a session ID
  if (typeof req.sessionID !== 'string') {
    return false
  }

  return state.cookieId !== req.sessionID
    ? state.settings.saveUninitialized || isModified(state, req.session)
    : state.settings.rolling ||
      (state.tracker.target(req.session).cookie.expires != null && isModified(state, req.session))
}

module.exports = { hookResponse }
