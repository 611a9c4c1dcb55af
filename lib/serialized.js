'use strict'

// Hands a session's JSON text from `Session#save` to a native store's `set`, so a
// saved session is serialized once for both the dirty-check digest and the store.
// The text is only offered for the duration of the synchronous `store.set` call,
// so a store that defers its work (or a wrapper around `set`) never gets text
// that is older than the session.

const sessionJson = require('./session-json')

let offeredSession = null
let offeredJson

function offerWhile (session, json, call) {
  const previousSession = offeredSession
  const previousJson = offeredJson
  offeredSession = session
  offeredJson = json
  try {
    return call()
  } finally {
    offeredSession = previousSession
    offeredJson = previousJson
  }
}

function jsonOf (session) {
  return session === offeredSession && offeredJson !== undefined
    ? offeredJson
    : sessionJson.serializeSession(session).json
}

module.exports = { offerWhile, jsonOf }
