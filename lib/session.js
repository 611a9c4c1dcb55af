'use strict'

// `req.session`: the session's data as own enumerable properties, plus the
// non-enumerable `req`, `id` and methods, as in express-session. Inside the
// middleware each Session comes back wrapped in the request's tracking Proxy.

const { kTracker, trackerFor } = require('./tracking/tracker')
const { conditionalSave } = require('./middleware/save')

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

  const tracker = trackerFor(req)
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

// save, reload, destroy and regenerate take express-session's callback and then
// return the session, for chaining; called without one they return a Promise.

/** Writes the session to the store now. */
defineMethod(Session.prototype, 'save', function save (fn) {
  return withCallbackOrPromise(this, fn, (callback) => {
    const req = this.req
    const store = req.sessionStore
    // Answered by the request's Proxy; a Session nobody watches has none.
    const tracker = this[kTracker]

    if (!tracker) {
      store.set(this.id, this, callback)
      return
    }

    // In the middleware, with a native store: conditional, as its commit is.
    const state = tracker.requestState
    if (state !== null && tracker.target(this) === tracker.target(state.req.session) &&
        state.settings.storeAccess.usesProtocolFor('set')) {
      // A native store may answer at once; the callback still runs later,
      // as a store's always does.
      let sync = true
      conditionalSave(state, state.req.session, (err) => {
        if (sync) setImmediate(callback, err)
        else callback(err)
      })
      sync = false
      return
    }

    // The store gets the Session itself, as express-session gives it: all of
    // its data, with nothing between the store and it.
    const target = tracker.target(this)
    tracker.recordSaveDuring(target, () => store.set(this.id, target, callback))
  })
})

/** Replaces `req.session` with what the store holds now. */
defineMethod(Session.prototype, 'reload', function reload (fn) {
  return withCallbackOrPromise(this, fn, (callback) => {
    const req = this.req
    const store = req.sessionStore

    const id = this.id
    const tracker = this[kTracker]
    store.get(id, function (err, sess) {
      if (err) return callback(err)
      if (!sess) return callback(new Error('failed to load session'))
      store.createSession(req, sess)
      // Saved again only while the store holds it (its text is not known here).
      if (tracker) {
        tracker.storedId = id
        tracker.storedJson = undefined
        tracker.storedVersion = undefined
      }
      callback()
    })
  })
})

/** Removes the session from the request and the store. */
defineMethod(Session.prototype, 'destroy', function destroy (fn) {
  return withCallbackOrPromise(this, fn, (callback) => {
    const state = requestStateOf(this)
    delete this.req.session
    this.req.sessionStore.destroy(this.id, (err) => {
      if (!err && state) state.settings.metrics.destroyed++
      callback(err)
    })
  })
})

/**
 * Destroys the session and gives the request a new one with a new ID; with
 * `{ keep: true }` the new one keeps the data (a login that must not keep the
 * ID a visitor came with). With a native store the old ID goes and the new
 * one comes in one step, when the session is saved (lib/middleware/save.js).
 */
defineMethod(Session.prototype, 'regenerate', function regenerate (options, fn) {
  if (typeof options === 'function') {
    fn = options
    options = undefined
  }
  const keep = typeof options === 'object' && options !== null && options.keep === true
  return withCallbackOrPromise(this, fn, (callback) => {
    const req = this.req
    const store = req.sessionStore
    const state = requestStateOf(this)
    if (state) state.settings.metrics.regenerated++
    if (!keep) {
      store.regenerate(req, callback)
      return
    }

    const tracker = this[kTracker]
    const data = dataOf(tracker ? tracker.target(this) : this)
    if (state && !state.settings.lastWriteWins && state.settings.storeAccess.canRotate()) {
      const oldId = this.id
      store.generate(req)
      Object.assign(tracker.target(req.session), data)
      tracker.changed(null)
      // Regenerated twice before a save: the ID in the store is the first one.
      if (tracker.rotateFrom === undefined) tracker.rotateFrom = oldId
      process.nextTick(callback)
      return
    }

    store.regenerate(req, (err) => {
      if (!err) Object.assign(req.session, data)
      callback(err)
    })
  })
})

// The middleware's state for the request this session belongs to, if any.
function requestStateOf (session) {
  const tracker = session[kTracker]
  return tracker ? tracker.requestState : null
}

// A session's data, without its cookie: what a regenerate that keeps it copies.
function dataOf (session) {
  const data = {}
  for (const key of Object.keys(session)) {
    if (key !== 'cookie') data[key] = session[key]
  }
  return data
}

// With a callback: run with it, return the session. Without: return a Promise.
function withCallbackOrPromise (session, fn, run) {
  if (typeof fn === 'function') {
    run(fn)
    return session
  }
  const promise = new Promise((resolve, reject) => {
    run((err) => (err ? reject(err) : resolve()))
  })
  // An ignored Promise must not turn a failure into an unhandled rejection:
  // express-session silently dropped it, so does this, unless it is awaited.
  promise.catch(noop)
  return promise
}

function defineMethod (obj, name, fn) {
  Object.defineProperty(obj, name, {
    configurable: true,
    enumerable: false,
    value: fn,
    writable: true
  })
}

module.exports = Session
