'use strict'

// The native-store protocol: how the middleware talks to a store that keeps
// sessions as JSON text (the native MemoryStore and RedisStore), without the
// object round trips and serializations of express-session's callback API.
//
// A store speaks it by having, under `kStoreProtocol` (usually on its
// prototype), an object with:
//
//   load(store, id, callback)                  callback(err, json | null, version):
//                                              `version`, optional, a number that
//                                              stands for the text in `expected`
//   save(store, id, session, json, condition, expected, callback)
//                                              write `json`, the session's JSON
//                                              text (`session` gives its expiry),
//                                              if the stored session meets
//                                              `condition` (below); callback(err,
//                                              outcome): true when written (or the
//                                              new version, for a store that gives
//                                              them), null when there was no
//                                              session, else the JSON stored now
//   touch(store, id, session, storedCookie, callback)
//                                              callback(err): move the expiry;
//                                              `storedCookie` is the cookie as
//                                              loaded (parsed), when it came
//                                              through `load`
//   destroy(store, id, callback)               callback(err)
//   rotate(store, oldId, newId, session, json, callback)     (optional)
//                                              move the session to `newId` as
//                                              `json` and remove `oldId`, in one
//                                              step where the store can; outcome
//                                              true, null when `oldId` is gone
//                                              (nothing written), else the JSON
//                                              stored under `newId`
//   standsFor: { get, set, touch, destroy }    the store's public methods each
//                                              operation does the work of
//   boundsItsWaits: boolean                    whether the store answers every
//                                              call in bounded time by itself
//   answersSynchronously: boolean             whether every callback runs before
//                                              the call returns (the memory store)
//   touchUpdatesCookie: boolean                whether `touch` writes the new expiry
//                                              into the stored cookie too (else,
//                                              with touchAfter, a touch is a save)
//   productionWarning: string                  (optional) shown once when the
//                                              middleware is made with
//                                              NODE_ENV=production
//
// Callbacks may run synchronously. An operation is used only while the store's
// public method it stands for is still the one in `standsFor`: an app that
// replaces `store.get` (to wrap it, say) gets its own method called, through
// the callback API, as express-session would.

const kStoreProtocol = Symbol.for('express-session-rs.store-protocol')

// What a save requires of the stored session, atomically with the write.
const SAVE_ALWAYS = 0 // nothing: express-session's unconditional set
const SAVE_IF_ABSENT = 1 // no session has the ID
const SAVE_IF_PRESENT = 2 // a session has the ID, whatever it holds
const SAVE_IF_UNCHANGED = 3 // the session is `expected`: its version, or its JSON text

module.exports = { kStoreProtocol, SAVE_ALWAYS, SAVE_IF_ABSENT, SAVE_IF_PRESENT, SAVE_IF_UNCHANGED }
