'use strict'

// A value handed to the code one synchronous call reaches, for one key: how the
// middleware passes something down through an API that has no parameter for it
// (the Session constructor, a store's `set`). The value is offered only while
// the call runs, so code that defers its work never sees a stale one; a handoff
// made inside another restores the outer one when it ends.

class CallHandoff {
  constructor () {
    this.key = undefined
    this.value = undefined
  }

  /** Runs `call` with `value` handed over for `key`; returns what `call` returns. */
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

  /** The value handed over for `key` right now, or undefined. */
  valueFor (key) {
    return key === this.key ? this.value : undefined
  }
}

module.exports = CallHandoff
