'use strict'

// Saving a session to a store that speaks the native-store protocol, so that
// concurrent requests cannot undo each other (ARCHITECTURE.md, "Concurrency"):
//
// - a new session (or a new ID) is created only if its ID is free;
// - a loaded one is written only if the store still holds the JSON this
//   request loaded (or last saved); if another request changed it since, this
//   request's own changes (the tracker's log of written and deleted paths) are
//   re-applied onto what is stored now, and the write is tried again, a
//   bounded number of times;
// - if it is gone (destroyed, regenerated away, expired), it stays gone: the
//   response goes on without an error.
//
// With `lastWriteWins: true` every save writes the whole session, as
// express-session does.

const debug = require('debug')('express-session-rs')
const { applyChanges } = require('../tracking/merge')
const { SAVE_ALWAYS, SAVE_IF_ABSENT, SAVE_IF_PRESENT, SAVE_IF_UNCHANGED } = require('../stores/protocol')

// Conflicts a save may meet before it gives up with an error. Each conflict
// means another request's save of the session succeeded meanwhile, so with N
// requests committing at once none meets more than N - 1: this bounds a
// pathological burst, not ordinary contention.
const MAX_MERGES = 100

/**
 * Saves `session` (the request's Proxy) through the protocol; `callback(err)`.
 * `counter`: the metric a success counts under (a touch may be a save). Saves
 * of one session ID take turns (commit-queue.js).
 */
function conditionalSave (state, session, callback, counter = 'saved') {
  const tracker = state.tracker
  const target = tracker.target(session)
  let json
  try {
    json = tracker.recordSave(session)
  } catch (err) {
    callback(err)
    return
  }
  state.settings.commits.run(target.id, (done) => {
    saveInTurn(state, target, json, counter, (err) => {
      done()
      callback(err)
    })
  })
}

function saveInTurn (state, target, json, counter, callback) {
  const tracker = state.tracker
  const id = target.id
  const storeAccess = state.settings.storeAccess
  const commits = state.settings.commits

  let merges = 0
  // Filed along with the save (the same batch, for Redis); a stale entry is
  // dropped when the index is read.
  if (state.settings.userOf !== undefined) {
    try {
      state.settings.indexOwner(id, target)
    } catch (err) {
      callback(err)
      return
    }
  }

  if (tracker.rotateFrom !== undefined && tracker.rotateFrom === tracker.storedId &&
      id !== tracker.storedId && !state.settings.lastWriteWins) {
    rotate(json)
    return
  }

  // The save before this one in the queue wrote the session since this
  // request loaded it: merge onto what it wrote, without asking the store.
  const written = commits.lastWritten(id)
  if (written !== undefined && tracker.storedId === id && tracker.storedJson !== undefined &&
      written !== tracker.storedJson && !state.settings.lastWriteWins) {
    try {
      json = JSON.stringify(applyChanges(JSON.parse(written), JSON.parse(json), tracker.changes))
    } catch (err) {
      callback(err)
      return
    }
    tracker.storedJson = written
    merges++
  }
  attempt(json)

  // A regenerate that kept the data: the new ID replaces the old in one step.
  function rotate (json) {
    const oldId = tracker.rotateFrom
    storeAccess.rotate(oldId, id, target, json, function rotated (err, outcome) {
      if (err) {
        callback(err)
        return
      }
      if (outcome === true) {
        state.settings.metrics.saved++
        tracker.rotateFrom = undefined
        tracker.storedId = id
        tracker.storedJson = json
        tracker.clearChanges()
        callback(null)
        return
      }
      if (outcome === null) {
        debug('session %s left the store while this request ran: not moved to %s', oldId, id)
        state.settings.metrics.notWrittenBack++
        callback(null)
        return
      }
      callback(new Error('session ID ' + id + ' is already in use in the store'))
    })
  }

  function attempt (json) {
    const condition = conditionFor(state, id)
    storeAccess.saveJson(id, target, json, condition, tracker.storedJson, function saved (err, outcome) {
      if (err) {
        callback(err)
        return
      }

      if (outcome === true) {
        const metrics = state.settings.metrics
        metrics[counter]++
        if (merges > 0) metrics.merged++
        commits.wrote(id, json)
        tracker.storedId = id
        tracker.storedJson = json
        tracker.clearChanges()
        callback(null)
        return
      }

      if (outcome === null || condition === SAVE_IF_ABSENT) {
        if (condition === SAVE_IF_ABSENT) {
          callback(new Error('session ID ' + id + ' is already in use in the store'))
          return
        }
        debug('session %s left the store while this request ran: not written back', id)
        state.settings.metrics.notWrittenBack++
        callback(null)
        return
      }

      // Another request saved it since: re-apply this request's changes.
      state.settings.metrics.conflicts++
      if (++merges > MAX_MERGES) {
        callback(new Error(`session ${id} kept changing: gave up after ${MAX_MERGES} merges`))
        return
      }
      let merged
      try {
        merged = JSON.stringify(applyChanges(JSON.parse(outcome), JSON.parse(json), tracker.changes))
      } catch (mergeError) {
        callback(mergeError)
        return
      }
      debug('session %s changed in the store since it was loaded: merged %d change(s)', id, tracker.changes.length)
      tracker.storedJson = outcome
      attempt(merged)
    })
  }
}

// What the store must hold for a save of `id` to go ahead.
function conditionFor (state, id) {
  const tracker = state.tracker
  if (state.settings.lastWriteWins) return SAVE_ALWAYS
  if (tracker.storedId !== id) return SAVE_IF_ABSENT
  // Reloaded: the text held is not known, only that the session is there.
  if (tracker.storedJson === undefined) return SAVE_IF_PRESENT
  return SAVE_IF_UNCHANGED
}

module.exports = { conditionalSave }
