'use strict'

// Saving a session to a store that speaks the native-store protocol, so that
// concurrent requests cannot undo each other (ARCHITECTURE.md, "Concurrent
// requests"):
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
// Saves of one session ID take turns in this process (commit-queue.js). Those
// that queued up while one was in flight are written together, in one write
// conditional on what that one wrote: a page's many parallel writes to one
// session cost one round trip per turn, not one each.
//
// With `lastWriteWins: true` every save writes the whole session, as
// express-session does, without taking turns.

const debug = require('debug')('express-session-rs')
const { applyChanges } = require('../tracking/merge')
const { SAVE_ALWAYS, SAVE_IF_ABSENT, SAVE_IF_PRESENT, SAVE_IF_UNCHANGED } = require('../stores/protocol')

// Conflicts a save may meet before it gives up with an error. Each conflict
// means a save from another process succeeded meanwhile (this process's take
// turns), so this bounds a pathological burst, not ordinary contention.
const MAX_MERGES = 100

/**
 * Saves `session` (the request's Proxy) through the protocol; `callback(err)`.
 * `counter`: the metric a success counts under (a touch may be a save).
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
  const commit = { state, target, json, counter, callback }
  // A store that answers at once has no save in flight to take turns with.
  // Last-write-wins saves need no turns: each writes the whole session
  // unconditionally, so they go out as they come, as express-session's do (for
  // Redis, those of one event-loop turn in one pipeline), not one round trip
  // after another.
  if (state.settings.storeAccess.answersSynchronously || state.settings.lastWriteWins) {
    saveTurn(target.id, [commit], noop)
    return
  }
  state.settings.commits.submit(target.id, commit, saveTurn)
}

function noop () {}

// One turn of `id`'s queue: the commits that waited for it. Those that update
// the session this process last wrote go together; any other goes alone, in
// order.
function saveTurn (id, commits, done) {
  const written = commits[0].state.settings.commits.lastWritten(id)
  if (written !== undefined && commits.every((commit) => updatesStored(commit, id))) {
    // Loaded after that write: nothing to merge.
    if (commits.length === 1 && commits[0].state.tracker.storedJson === written) {
      write(id, commits, commits[0].json, SAVE_IF_UNCHANGED, written, done)
      return
    }
    let json
    try {
      json = mergeAll(written, commits)
    } catch (err) {
      finishAll(commits, err)
      done()
      return
    }
    write(id, commits, json, SAVE_IF_UNCHANGED, written, done)
    return
  }
  let next = 0
  const alone = () => {
    if (next === commits.length) {
      done()
      return
    }
    saveAlone(id, commits[next++], alone)
  }
  alone()
}

// A commit that updates the stored session, conditionally on its text.
function updatesStored (commit, id) {
  const tracker = commit.state.tracker
  return !commit.state.settings.lastWriteWins && tracker.rotateFrom === undefined &&
    tracker.storedId === id && tracker.storedJson !== undefined
}

function saveAlone (id, commit, done) {
  const { state, json } = commit
  const tracker = state.tracker
  if (tracker.rotateFrom !== undefined && tracker.rotateFrom === tracker.storedId &&
      id !== tracker.storedId && !state.settings.lastWriteWins) {
    rotate(id, commit, done)
    return
  }
  const condition = conditionFor(state, id)
  if (condition === SAVE_IF_UNCHANGED) {
    // A version, where the store gave one, is cheaper to check than the text.
    const expected = tracker.storedVersion !== undefined ? tracker.storedVersion : tracker.storedJson
    write(id, [commit], json, condition, expected, done)
    return
  }
  write(id, [commit], json, condition, undefined, done)
}

// Writes `json` for every commit of `commits` (their changes merged in it),
// if the store meets `condition`; re-merges onto what it holds on a conflict.
function write (id, commits, json, condition, expected, done, merges = 0) {
  const last = commits[commits.length - 1]
  const settings = last.state.settings
  // Filed along with the save (the same batch, for Redis); a stale entry is
  // dropped when the index is read.
  if (settings.userOf !== undefined && merges === 0) {
    try {
      for (const commit of commits) settings.indexOwner(id, commit.target)
    } catch (err) {
      finishAll(commits, err)
      done()
      return
    }
  }

  settings.storeAccess.saveJson(id, last.target, json, condition, expected, function saved (err, outcome) {
    if (err) {
      finishAll(commits, err)
      done()
      return
    }

    if (outcome === true || typeof outcome === 'number') {
      settings.commits.wrote(id, json)
      for (const commit of commits) {
        const tracker = commit.state.tracker
        tracker.storedId = id
        tracker.storedJson = json
        tracker.storedVersion = typeof outcome === 'number' ? outcome : undefined
        tracker.clearChanges()
        settings.metrics[commit.counter]++
        if (merges > 0 || commits.length > 1) settings.metrics.merged++
      }
      finishAll(commits, null)
      done()
      return
    }

    if (condition === SAVE_IF_ABSENT) {
      finishAll(commits, new Error('session ID ' + id + ' is already in use in the store'))
      done()
      return
    }

    if (outcome === null) {
      debug('session %s left the store while this request ran: not written back', id)
      settings.metrics.notWrittenBack += commits.length
      finishAll(commits, null)
      done()
      return
    }

    // Another process saved it since: re-apply these requests' changes.
    settings.metrics.conflicts++
    if (merges + 1 > MAX_MERGES) {
      finishAll(commits, new Error(`session ${id} kept changing: gave up after ${MAX_MERGES} merges`))
      done()
      return
    }
    let merged
    try {
      merged = mergeAll(outcome, commits)
    } catch (mergeError) {
      finishAll(commits, mergeError)
      done()
      return
    }
    debug('session %s changed in the store since it was loaded: merged %d request(s)', id, commits.length)
    write(id, commits, merged, SAVE_IF_UNCHANGED, outcome, done, merges + 1)
  })
}

// `stored` (JSON) with each commit's changes applied, in order.
function mergeAll (stored, commits) {
  const session = JSON.parse(stored)
  for (const commit of commits) applyChanges(session, commit.target, commit.state.tracker.changedPaths())
  return JSON.stringify(session)
}

function finishAll (commits, err) {
  for (const commit of commits) commit.callback(err)
}

// A regenerate that kept the data: the new ID replaces the old in one step.
function rotate (id, commit, done) {
  const { state, target, json } = commit
  const tracker = state.tracker
  const oldId = tracker.rotateFrom
  const settings = state.settings
  settings.storeAccess.rotate(oldId, id, target, json, function rotated (err, outcome) {
    if (!err && (outcome === true || typeof outcome === 'number')) {
      settings.metrics.saved++
      settings.commits.wrote(id, json)
      tracker.rotateFrom = undefined
      tracker.storedId = id
      tracker.storedJson = json
      tracker.storedVersion = typeof outcome === 'number' ? outcome : undefined
      tracker.clearChanges()
    } else if (!err && outcome === null) {
      debug('session %s left the store while this request ran: not moved to %s', oldId, id)
      settings.metrics.notWrittenBack++
    } else if (!err) {
      err = new Error('session ID ' + id + ' is already in use in the store')
    }
    commit.callback(err || null)
    done()
  })
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
