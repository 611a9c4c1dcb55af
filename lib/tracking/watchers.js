'use strict'

// The Proxy handlers that watch a session: one for the session and one for
// each plain object or array read from it. Each knows the path of what it
// watches, so every write and delete is logged at its path (tracker.js), and a
// value handed out that cannot be watched is logged as written whole where it
// sits. Inside an array the array itself is the unit: writes there log the
// array's path, so two requests that both push to one array do not interleave
// half of each.

const kTracker = Symbol('express-session-rs.tracker')

// For plain objects and arrays inside the session.
class NestedWatcher {
  /**
   * @param {SessionTracker} tracker
   * @param {NestedWatcher|null} parent the watcher of what holds the value (null: the session)
   * @param {string} key where the parent holds it
   * @param {boolean} isArray
   */
  constructor (tracker, parent, key, isArray) {
    this.tracker = tracker
    this.parent = parent
    this.key = key
    // Writes inside an array, or inside anything in one, change the outermost array.
    this.wholeOwner = parent !== null && parent.wholeOwner !== null ? parent.wholeOwner : isArray ? this : null
    // Made when a merge asks: a request that only reads builds no paths.
    this.cachedPath = undefined
  }

  /** The keys from the session to the watched value. */
  path () {
    if (this.cachedPath === undefined) {
      this.cachedPath = this.parent === null ? [] : this.parent.path().concat(this.key)
    }
    return this.cachedPath
  }

  /** The path a write of `key` changes. */
  pathOf (key) {
    return this.wholeOwner !== null ? this.wholeOwner.path() : this.path().concat(key)
  }

  get (target, key, receiver) {
    return this.tracker.handOut(Reflect.get(target, key, receiver), this, key)
  }

  getOwnPropertyDescriptor (target, key) {
    const descriptor = Reflect.getOwnPropertyDescriptor(target, key)
    // Descriptors must report the real value, so that value is out of sight.
    if (descriptor && typeof descriptor.value === 'object' && descriptor.value !== null) {
      this.tracker.lose(this, key)
    }
    return descriptor
  }

  set (target, key, value) {
    this.tracker.handIn(value, this, key)
    return Reflect.set(target, key, value)
  }

  defineProperty (target, key, descriptor) {
    this.tracker.handIn(descriptor.value, this, key)
    // A property that may not change would break the Proxy's promises on reads.
    if (descriptor.configurable === false) this.tracker.lose(this, key)
    return Reflect.defineProperty(target, key, descriptor)
  }

  deleteProperty (target, key) {
    this.tracker.changed(this, key)
    return Reflect.deleteProperty(target, key)
  }
}

// For the session itself: `cookie` is not data (the dirty check leaves it out,
// a commit always writes the request's own) and neither is `req`, so both are
// handed out as they are. The tracker is answered for `kTracker`: it is no
// property of the Session.
class SessionWatcher extends NestedWatcher {
  constructor (tracker) {
    super(tracker, null, undefined, false)
  }

  get (target, key, receiver) {
    if (key === kTracker) return this.tracker
    const value = Reflect.get(target, key, receiver)
    return key === 'cookie' || key === 'req' ? value : this.tracker.handOut(value, this, key)
  }

  getOwnPropertyDescriptor (target, key) {
    if (key === 'cookie' || key === 'req') return Reflect.getOwnPropertyDescriptor(target, key)
    return super.getOwnPropertyDescriptor(target, key)
  }

  set (target, key, value) {
    if (key === 'cookie') {
      this.tracker.changed(null, key)
      return Reflect.set(target, key, value)
    }
    return super.set(target, key, value)
  }
}

// With absoluteTimeout, the session's creation time travels as a member of its
// stored JSON (so every store keeps it); the app does not see it.
const CREATED_AT = 'express-session-rs:createdAt'

class CreationHidingWatcher extends SessionWatcher {
  get (target, key, receiver) {
    return key === CREATED_AT ? undefined : super.get(target, key, receiver)
  }

  has (target, key) {
    return key !== CREATED_AT && Reflect.has(target, key)
  }

  ownKeys (target) {
    return Reflect.ownKeys(target).filter((key) => key !== CREATED_AT)
  }

  getOwnPropertyDescriptor (target, key) {
    return key === CREATED_AT ? undefined : super.getOwnPropertyDescriptor(target, key)
  }

  deleteProperty (target, key) {
    return key === CREATED_AT || super.deleteProperty(target, key)
  }
}

// Objects and arrays as JSON.parse makes them: safe to stand behind a Proxy.
function isPlainData (value) {
  if (Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

module.exports = { NestedWatcher, SessionWatcher, CreationHidingWatcher, isPlainData, kTracker, CREATED_AT }
