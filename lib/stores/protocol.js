'use strict'

// The native-store protocol: how the middleware talks to a store that keeps
// sessions as JSON text (the native MemoryStore and RedisStore), without the
// object round trips and serializations of express-session's callback API.
//
// A store speaks it by having, under `kStoreProtocol` (usually on its
// prototype), an object with:
//
//   load(store, id, callback)                  callback(err, json | null)
//   save(store, id, session, json, callback)   callback(err): write `json`, the
//                                              session's JSON text; `session` gives
//                                              its expiry
//   touch(store, id, session, storedCookie, callback)
//                                              callback(err): move the expiry;
//                                              `storedCookie` is the cookie as
//                                              loaded (parsed), when it came
//                                              through `load`
//   destroy(store, id, callback)               callback(err)
//   standsFor: { get, set, touch, destroy }    the store's public methods each
//                                              operation does the work of
//   boundsItsWaits: boolean                    whether the store answers every
//                                              call in bounded time by itself
//
// Callbacks may run synchronously. An operation is used only while the store's
// public method it stands for is still the one in `standsFor`: an app that
// replaces `store.get` (to wrap it, say) gets its own method called, through
// the callback API, as express-session would.

const kStoreProtocol = Symbol.for('express-session-rs.store-protocol')

module.exports = { kStoreProtocol }
