'use strict'

// The Proxy handlers that watch a session: one pair per request, shared by
// every Proxy of it. Each write or delete tells the tracker; each read of an
// object hands out a watched stand-in, or marks the session untrackable when
// the object cannot be watched (see tracker.js).

const kTracker = Symbol('express-session-rs.tracker')

// For plain objects and arrays inside the session.
class NestedWatcher {
  constructor (tracker) {
    this.tracker = tracker
  }

  get (target, key, receiver) {
    return this.tracker.handOut(Reflect.get(target, key, receiver))
  }

  getOwnPropertyDescriptor (target, key) {
    const descriptor = Reflect.getOwnPropertyDescriptor(target, key)
    // Descriptors must report the real value, so that value is out of sight.
    if (descriptor && typeof descriptor.value === 'object' && descriptor.value !== null) {
      this.tracker.lose()
    }
    return descriptor
  }

  set (target, key, value) {
    this.tracker.handIn(value)
    return Reflect.set(target, key, value)
  }

  defineProperty (target, key, descriptor) {
    this.tracker.handIn(descriptor.value)
    // A property that may not change would break the Proxy's promises on reads.
    if (descriptor.configurable === false) this.tracker.lose()
    return Reflect.defineProperty(target, key, descriptor)
  }

  deleteProperty (target, key) {
    this.tracker.changed()
    return Reflect.deleteProperty(target, key)
  }
}

// For the session itself: `cookie` is not data (the dirty check leaves it out)
// and neither is `req`, so both are handed out as they are. The tracker is
// answered for `kTracker`: it is no property of the Session.
class SessionWatcher extends NestedWatcher {
  get (target, key, receiver) {
    if (key === kTracker) return this.tracker
    const value = Reflect.get(target, key, receiver)
    return key === 'cookie' || key === 'req' ? value : this.tracker.handOut(value)
  }

  getOwnPropertyDescriptor (target, key) {
    if (key === 'cookie' || key === 'req') return Reflect.getOwnPropertyDescriptor(target, key)
    return super.getOwnPropertyDescriptor(target, key)
  }

  set (target, key, value) {
    if (key === 'cookie') {
      this.tracker.changed()
      return Reflect.set(target, key, value)
    }
    return super.set(target, key, value)
  }
}

// Objects and arrays as JSON.parse makes them: safe to stand behind a Proxy.
function isPlainData (value) {
  if (Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

module.exports = { NestedWatcher, SessionWatcher, isPlainData, kTracker }
