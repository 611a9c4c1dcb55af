'use strict'

// One conditional save at a time per session ID, in this process. Without it,
// many requests writing one session at once (a page's parallel API calls) all
// race their saves: each round one wins and the others merge and try again,
// and a request can lose the race round after round. In turn, each save also
// knows the JSON the one before it wrote, so it merges onto that before it
// asks the store, and meets a conflict only when another process wrote.

class CommitQueue {
  constructor () {
    // id -> { waiting: [task], lastWritten: string | undefined }
    this.sessions = new Map()
  }

  /** Runs `task(done)` once no other task for `id` is running. */
  run (id, task) {
    const entry = this.sessions.get(id)
    if (entry !== undefined) {
      entry.waiting.push(task)
      return
    }
    this.sessions.set(id, { waiting: [], lastWritten: undefined })
    this.start(id, task)
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

  start (id, task) {
    let finished = false
    task(() => {
      if (finished) return
      finished = true
      const entry = this.sessions.get(id)
      const next = entry.waiting.shift()
      if (next === undefined) {
        this.sessions.delete(id)
        return
      }
      this.start(id, next)
    })
  }
}

module.exports = CommitQueue
