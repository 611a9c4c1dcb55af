'use strict'

// `req.session`: the session's data as own enumerable properties, plus the
// non-enumerable `req`, `id` and methods, as in express-session. Inside the
// middleware each Session comes back wrapped in the request's tracking Proxy.

const { kTracker } = require('./tracking')
const { offerWhile } = require('./serialized')

function noop () {}

function Session (req, data) {
  Object.defineProperty(this, 'req', { value: req })
  Object.defineProperty(this, 'id', { value: req.sessionID })

  if (typeof data === 'object' && data !== null) {
    // Stored data cannot shadow the methods or `req`/`id`.
    for (const prop in data) {
      if (!(prop in this)) {
        this[prop] = data[prop]
      }
    }
  }

  const tracker = req[kTracker]
  if (tracker) return tracker.watch(this)
}

/** Resets the cookie's expiry to `originalMaxAge` from now. */
defineMethod(Session.prototype, 'touch', function touch () {
  return this.resetMaxAge()
})

defineMethod(Session.prototype, 'resetMaxAge', function resetMaxAge () {
  this.cookie.maxAge = this.cookie.originalMaxAge
  return this
})

/** Writes the session to the store now; `fn(err)` when done. */
defineMethod(Session.prototype, 'save', function save (fn) {
  const req = this.req
  const store = req.sessionStore
  const tracker = req[kTracker]
  const callback = fn || noop

  if (!tracker) {
    store.set(this.id, this, callback)
    return this
  }

  const json = tracker.recordSave(this)
  offerWhile(this, json, () => store.set(this.id, this, callback))
  return this
})

/** Replaces `req.session` with what the store holds now; `fn(err)` when done. */
defineMethod(Session.prototype, 'reload', function reload (fn) {
  const req = this.req
  const store = req.sessionStore

  store.get(this.id, function (err, sess) {
    if (err) return fn(err)
    if (!sess) return fn(new Error('failed to load session'))
    store.createSession(req, sess)
    fn()
  })

  return this
})

/** Removes the session from the request and the store; `fn(err)` when done. */
defineMethod(Session.prototype, 'destroy', function destroy (fn) {
  delete this.req.session
  this.req.sessionStore.destroy(this.id, fn)
  return this
})

/** Destroys the session and gives the request a new one with a new ID. */
defineMethod(Session.prototype, 'regenerate', function regenerate (fn) {
  this.req.sessionStore.regenerate(this.req, fn)
  return this
})

function defineMethod (obj, name, fn) {
  Object.defineProperty(obj, name, {
    configurable: true,
    enumerable: false,
    value: fn,
    writable: true
  })
}

module.exports = Session
