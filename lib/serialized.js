'use strict'

// Hands a session's JSON text from `Session#save` to a native store's `set`, so a
// saved session is serialized once for both the dirty-check digest and the store.
// The text is only offered for the duration of the synchronous `store.set` call,
// so a store that defers its work (or a wrapper around `set`) never gets text
// that is older than the session.

const sessionJson = require('./session-json')
const ScopedOffer = require('./scoped')

const offered = new ScopedOffer()

function offerWhile (session, json, call) {
  return offered.during(session, json, call)
}

function jsonOf (session) {
  const json = offered.valueFor(session)
  return json !== undefined ? json : sessionJson.serializeSession(session).json
}

module.exports = { offerWhile, jsonOf }
