'use strict'

// The one interface the middleware has to its store. A store that speaks the
// native-store protocol (protocol.js) is called through it, with JSON text; any
// other store, or a protocol operation whose public method the app replaced,
// through express-session's callback API, guarded (guarded-call.js): one answer
// at most, a throw is an error, and no answer within `timeout` ms is an error.

const Store = require('../store')
const guardedCall = require('./guarded-call')
const { kStoreProtocol } = require('./protocol')

class StoreAdapter {
  /**
   * @param {object} store an express-session store
   * @param {number} timeout ms a callback-API call may take (0: no limit)
   */
  constructor (store, timeout) {
    const protocol = store[kStoreProtocol]
    this.store = store
    this.protocol = isProtocol(protocol) ? protocol : null
    // A store that bounds its own waits needs no timer per call.
    this.timeout = this.protocol !== null && this.protocol.boundsItsWaits ? 0 : timeout
    this.canTouch = typeof store.touch === 'function'
  }

  /**
   * `callback(err, session, json)`: the stored session as data (no session:
   * undefined), and its JSON text when it came through the protocol.
   */
  load (id, callback) {
    if (this.usesProtocolFor('get')) {
      this.protocol.load(this.store, id, function loaded (err, json) {
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
        callback(null, session, json === null ? undefined : json)
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
    this.protocol.save(this.store, id, session, json, condition, expected, callback)
  }

  /** Saves as express-session does: through the session's own `save`. */
  saveThroughSession (session, callback) {
    guardedCall(this.timeout, 'set', (done) => session.save(done), callback)
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
    this.protocol.rotate(this.store, oldId, newId, session, json, callback)
  }

  /** Moves the stored session's expiry; `storedCookie` as in protocol.js. */
  touch (id, session, target, storedCookie, callback) {
    if (this.usesProtocolFor('touch')) {
      this.protocol.touch(this.store, id, target, storedCookie, callback)
      return
    }
    guardedCall(this.timeout, 'touch', (done) => this.store.touch(id, session, done), callback)
  }

  destroy (id, callback) {
    if (this.usesProtocolFor('destroy')) {
      this.protocol.destroy(this.store, id, callback)
      return
    }
    guardedCall(this.timeout, 'destroy', (done) => this.store.destroy(id, done), callback)
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
