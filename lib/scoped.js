'use strict'

// A value offered for one key while a synchronous call runs, for the code that
// call reaches: how the middleware hands something down through an API that has
// no parameter for it (a store's `set`, the Session constructor). An offer made
// inside another restores the outer one when it ends.

class ScopedOffer {
  constructor () {
    this.key = undefined
    this.value = undefined
  }

  /** Runs `call` with `value` offered for `key`; returns what `call` returns. */
  during (key, value, call) {
    const outerKey = this.key
    const outerValue = this.value
    this.key = key
    this.value = value
    try {
      return call()
    } finally {
      this.key = outerKey
      this.value = outerValue
    }
  }

  /** The value offered for `key` right now, or undefined. */
  valueFor (key) {
    return key === this.key ? this.value : undefined
  }
}

module.exports = ScopedOffer
