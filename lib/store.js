'use strict'

// The base of every session store, express-session's `Store`: an EventEmitter
// (stores emit `connect` and `disconnect`) with `regenerate`, `load` and
// `createSession`. Kept a plain constructor so `util.inherits(MyStore, Store)`
// works as well as `class MyStore extends Store`.

const EventEmitter = require('events').EventEmitter
const util = require('util')
const Cookie = require('./cookie')
const Session = require('./session')

function Store () {
  EventEmitter.call(this)
}

util.inherits(Store, EventEmitter)

/** Destroys `req`'s session, then gives it a new one (`this.generate`, set by the middleware). */
Store.prototype.regenerate = function (req, fn) {
  const self = this
  this.destroy(req.sessionID, function (err) {
    // A genid or cookie function that throws is this call's error.
    try {
      self.generate(req)
    } catch (generateError) {
      fn(err || generateError)
      return
    }
    fn(err)
  })
}

/** Loads the session `sid` as a `Session`: `fn(err, session)`, no session when missing. */
Store.prototype.load = function (sid, fn) {
  const self = this
  this.get(sid, function (err, sess) {
    if (err) return fn(err)
    if (!sess) return fn()
    const req = { sessionID: sid, sessionStore: self }
    fn(null, self.createSession(req, sess))
  })
}

/** Turns stored data into `req.session`, its cookie into a `Cookie`. */
Store.prototype.createSession = function (req, sess) {
  const expires = sess.cookie.expires
  const originalMaxAge = sess.cookie.originalMaxAge

  const cookie = sess.cookie = new Cookie(sess.cookie)

  // What express-session's `cookie.expires = new Date(expires)` leaves, without
  // the setter's work on originalMaxAge (a clock read), which the next line redoes.
  if (typeof expires === 'string') {
    cookie._expires = new Date(expires)
  }

  cookie.originalMaxAge = originalMaxAge

  req.session = new Session(req, sess)
  return req.session
}

module.exports = Store
