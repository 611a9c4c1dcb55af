'use strict'

// Calls into a session store written in JS, guarded: the callback runs once at
// most (a store that calls back twice does not run the app twice), a store that
// throws is a failure passed to the callback, and one that never calls back is
// a failure after `timeout` ms instead of a request that hangs for ever.

function guardedCall (timeout, operation, call, callback) {
  let done = false
  const timer = timeout > 0
    ? setTimeout(() => finish(timeoutError(operation, timeout)), timeout)
    : null
  if (timer) timer.unref()

  function finish (err, value) {
    if (done) return
    done = true
    if (timer) clearTimeout(timer)
    callback(err, value)
  }

  try {
    call(finish)
  } catch (err) {
    finish(err)
  }
}

function timeoutError (operation, timeout) {
  const err = new Error(`session store did not answer ${operation} within ${timeout} ms`)
  err.code = 'ERR_SESSION_STORE_TIMEOUT'
  return err
}

module.exports = guardedCall
module.exports.timeoutError = timeoutError
