'use strict'

// What the middleware knows about one request's session, shared by its phases
// (load.js, commit.js): one object a request, no closures over it.

const { SessionTracker } = require('../tracking/tracker')

class RequestState {
  constructor (settings, codec, req, res, next) {
    this.settings = settings
    this.codec = codec
    this.req = req
    this.res = res
    this.next = next
    this.tracker = new SessionTracker(settings.absoluteTimeout !== undefined)
    this.tracker.requestState = this
    // The ID the request's cookie carried, and the ID of the session loaded
    // or generated for it (express-session's `cookieId` and `originalId`).
    this.cookieId = undefined
    this.originalId = undefined
    // Whether the cookie's expiry was moved for this response already.
    this.touched = false
    // Whether the store failed to save this new session (then no cookie goes out).
    this.unsaved = false
    // Whether the response's headers and its end have been hooked (response-hooks.js).
    this.headersHooked = false
    this.ended = false
  }
}

module.exports = RequestState
