'use strict'

// The one interface the middleware has to its store. A store that speaks the
// native-store protocol (protocol.js) is called through it, with JSON text; any
// other store, or a protocol operation whose public method the app replaced,
// through express-session's callback API, guarded (guarded-call.js): one answer
// at most, a throw is an error, and no answer within `timeout` ms is an error.

const Store = require('../store')
const Metrics = require('../middleware/metrics')
const guardedCall = require('./guarded-call')
const { kStoreProtocol } = require('./protocol')

class StoreAdapter {
  /**
   * @param {object} store an express-session store
   * @param {number} timeout ms a callback-API call may take (0: no limit)
   * @param {Metrics} metrics where each call's time and failure are counted
   */
  constructor (store, timeout, metrics) {
    const protocol = store[kStoreProtocol]
    this.store = store
    this.metrics = metrics
    this.protocol = isProtocol(protocol) ? protocol : null
    // A store that bounds its own waits needs no timer per call.
    this.timeout = this.protocol !== null && this.protocol.boundsItsWaits ? 0 : timeout
    this.canTouch = typeof store.touch === 'function'
    this.answersSynchronously = this.protocol !== null && this.protocol.answersSynchronously === true
  }

  /**
   * `callback(err, session, json, version)`: the stored session as data (no
   * session: undefined), and its JSON text (and version, from a store that
   * gives them) when it came through the protocol.
   */
  load (id, callback) {
    const metrics = this.metrics
    const started = Metrics.now()
    const loaded = function loaded (err, session, json, version) {
      metrics.storeCallEnded('get', started, err)
      callback(err, session, json, version)
    }
    this.loadUntimed(id, loaded)
  }

  loadUntimed (id, callback) {
    if (this.usesProtocolFor('get')) {
      this.protocol.load(this.store, id, function loaded (err, json, version) {
        if (err) {
          callback(err)
          return
        }
        let session
        try {
          session = json === null ? undefined : JSON.parse(json)
        } catch (parseError) {
          callback(parseError)
          return
        }
        callback(null, session, json === null ? undefined : json, version)
      })
      return
    }

    guardedCall(this.timeout, 'get', (done) => this.store.get(id, done), function got (err, session) {
      // A store may report a missing session as ENOENT.
      if (err && err.code === 'ENOENT') {
        callback(null, undefined, undefined)
        return
      }
      callback(err, err ? undefined : session || undefined, undefined)
    })
  }

  /** Saves through the protocol; see protocol.js for `condition` and the outcome. */
  saveJson (id, session, json, condition, expected, callback) {
    this.protocol.save(this.store, id, session, json, condition, expected, this.timed('set', callback))
  }

  /** Saves as express-session does: through the session's own `save`. */
  saveThroughSession (session, callback) {
    guardedCall(this.timeout, 'set', (done) => session.save(done), this.timed('set', callback))
  }

  /**
   * Whether a touch must rewrite the session: with touchAfter, the time of the
   * last touch is read from the stored cookie, which a store's own touch may
   * leave as it was (Redis's EXPIRE does). Only for a session loaded through
   * the protocol, whose stored text the rewrite is conditional on.
   */
  rewritesToTouch (settings, tracker) {
    return settings.touchAfter !== undefined && !settings.lastWriteWins &&
      this.protocol !== null && !this.protocol.touchUpdatesCookie &&
      tracker.storedJson !== undefined && this.usesProtocolFor('set')
  }

  /** Whether the store keeps an owner index (userOf). */
  indexesOwners () {
    return this.protocol !== null && typeof this.protocol.index === 'function' &&
      typeof this.protocol.useOwnerOf === 'function'
  }

  /** Tells the store whose sessions are whose. */
  useOwnerOf (userOf) {
    this.protocol.useOwnerOf(this.store, userOf)
  }

  /** Files `id` under `owner`; checked when read, so it may run ahead of a save. */
  index (owner, id, session) {
    this.protocol.index(this.store, owner, id, session)
  }

  /** A warning the store asks to be shown in production, if any. */
  get productionWarning () {
    return this.protocol !== null ? this.protocol.productionWarning : undefined
  }

  /**
   * Whether a regenerate that keeps the data can move it to the new ID in the
   * store in one step: the protocol rotates, and nothing it stands in for
   * (regenerate is destroy + generate) was replaced.
   */
  canRotate () {
    return this.protocol !== null && typeof this.protocol.rotate === 'function' &&
      this.store.regenerate === Store.prototype.regenerate &&
      this.usesProtocolFor('set') && this.usesProtocolFor('destroy')
  }

  /** Moves the session to `newId` with `json`, atomically where the store can. */
  rotate (oldId, newId, session, json, callback) {
    this.protocol.rotate(this.store, oldId, newId, session, json, this.timed('set', callback))
  }

  /** Moves the stored session's expiry; `storedCookie` as in protocol.js. */
  touch (id, session, target, storedCookie, callback) {
    const done = this.timed('touch', callback)
    if (this.usesProtocolFor('touch')) {
      this.protocol.touch(this.store, id, target, storedCookie, done)
      return
    }
    guardedCall(this.timeout, 'touch', (answer) => this.store.touch(id, session, answer), done)
  }

  destroy (id, callback) {
    const done = this.timed('destroy', callback)
    if (this.usesProtocolFor('destroy')) {
      this.protocol.destroy(this.store, id, done)
      return
    }
    guardedCall(this.timeout, 'destroy', (answer) => this.store.destroy(id, answer), done)
  }

  // `callback`, with the call's time and failure counted under `operation`.
  timed (operation, callback) {
    const metrics = this.metrics
    const started = Metrics.now()
    return function answered (err, value) {
      metrics.storeCallEnded(operation, started, err)
      callback(err, value)
    }
  }

  // Whether the store's public `method` still does what the protocol stands for.
  usesProtocolFor (method) {
    return this.protocol !== null && this.store[method] === this.protocol.standsFor[method]
  }
}

function isProtocol (value) {
  return typeof value === 'object' && value !== null &&
    typeof value.load === 'function' && typeof value.save === 'function' &&
    typeof value.touch === 'function' && typeof value.destroy === 'function' &&
    typeof value.standsFor === 'object' && value.standsFor !== null
}

module.exports = StoreAdapter
