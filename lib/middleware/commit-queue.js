'use strict'

// Saves of one session ID take turns in this process. Without turns, many
// requests writing one session at once (a page's parallel API calls) all race
// their saves: each round one wins and the others merge and try again, and a
// request can lose round after round. With them, the saves that arrive while
// one is in flight wait, and go together in the next turn (save.js), knowing
// the JSON the one before them wrote.

class CommitQueue {
  constructor () {
    // id -> { waiting: [commit], lastWritten: string | undefined }
    this.sessions = new Map()
  }

  /**
   * Runs `turn(id, commits, done)` with `commit` now, when no turn of `id` is
   * running, else with every commit that arrived meanwhile, once it ends.
   */
  submit (id, commit, turn) {
    const entry = this.sessions.get(id)
    if (entry !== undefined) {
      entry.waiting.push(commit)
      return
    }
    this.sessions.set(id, { waiting: [], lastWritten: undefined })
    this.start(id, [commit], turn)
  }

  /** The JSON this process last wrote for `id`, while saves of it are queued. */
  lastWritten (id) {
    const entry = this.sessions.get(id)
    return entry === undefined ? undefined : entry.lastWritten
  }

  wrote (id, json) {
    const entry = this.sessions.get(id)
    if (entry !== undefined) entry.lastWritten = json
  }

  start (id, commits, turn) {
    let finished = false
    turn(id, commits, () => {
      if (finished) return
      finished = true
      const entry = this.sessions.get(id)
      if (entry.waiting.length === 0) {
        this.sessions.delete(id)
        return
      }
      const next = entry.waiting
      entry.waiting = []
      this.start(id, next, turn)
    })
  }
}

module.exports = CommitQueue
