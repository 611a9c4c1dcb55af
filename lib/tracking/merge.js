'use strict'

// Re-applies one request's changes onto a session another request has saved
// since it was loaded: the values at the paths the request wrote are taken
// from the request's session, the paths it deleted are deleted, and everything
// else stays as stored. The cookie is always the request's own (it carries the
// expiry this response sends). The result is only stringified: it may hold
// the request's own values, which this never changes.

/**
 * @param {object} stored the session now in the store, parsed
 * @param {object} mine this request's session (what the Proxy wraps)
 * @param {Array<Array<string>>} paths what this request wrote or deleted
 * @return {object} `stored`, changed, for JSON.stringify
 */
function applyChanges (stored, mine, paths) {
  stored.cookie = mine.cookie
  for (const path of paths) applyPath(stored, mine, path)
  return stored
}

function applyPath (stored, mine, path) {
  let from = mine
  let to = stored
  const last = path.length - 1
  for (let i = 0; i < last; i++) {
    const key = path[i]
    from = isContainer(from) && Object.hasOwn(from, key) ? from[key] : undefined
    // Gone from this request's session: the write of an ancestor that removed
    // it is in the log too, and decides.
    if (!isContainer(from)) return
    const next = Object.hasOwn(to, key) ? to[key] : undefined
    if (!isContainer(next) || Array.isArray(next) !== Array.isArray(from)) {
      put(to, key, Array.isArray(from) ? [] : {})
    }
    to = to[key]
  }
  // Arrays log their own path (watchers.js), so `to` is an object here.
  const key = path[last]
  if (isContainer(from) && Object.hasOwn(from, key)) {
    put(to, key, from[key])
  } else {
    delete to[key]
  }
}

// As an own data property, whatever the key (`__proto__` included).
function put (object, key, value) {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true })
}

function isContainer (value) {
  return typeof value === 'object' && value !== null
}

module.exports = { applyChanges }
