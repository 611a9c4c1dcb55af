'use strict'

// The RedisStore's connection on the JS thread, for the session commands of a
// standalone server (no TLS, Cluster or Sentinel): Node's socket does the IO
// in libuv, Rust encodes the commands and matches the replies
// (src/redis/wire.rs). A round trip then costs no hand-off to the IO thread
// and back, which at low concurrency cost more CPU than the command itself.
//
// Every wait stays bounded: connecting by `connectTimeout`, each command by
// `commandTimeout` from when it was written; either dropping the connection
// fails everything on it, and the next command opens a new one. Commands wait
// in JS until the handshake (AUTH, SELECT) has succeeded: sent behind a failed
// AUTH they would run as the default user.

const net = require('net')
const { RedisReplyKind } = require('../native')

// The seq of the handshake's reply; the store's commands never use it.
const HANDSHAKE = 0

class DirectLink {
  /**
   * @param {object} redis the NativeRedisStore
   * @param {object} target where (`directTarget()`)
   * @param {function} deliver takes a flat reply array (CommandQueue.deliver)
   * @param {object} timeouts `{ connectTimeout, commandTimeout }`, ms
   */
  constructor (redis, target, deliver, timeouts) {
    this.redis = redis
    this.target = target
    this.deliver = deliver
    this.connectTimeout = timeouts.connectTimeout
    this.commandTimeout = timeouts.commandTimeout
    this.socket = null
    this.ready = false
    // Written before the handshake succeeded: held until it has.
    this.held = []
    this.connectTimer = null
    this.commandTimer = null
    this.closed = false
  }

  /** Writes commands `flush()` encoded, opening the connection first if there is none. */
  send (bytes) {
    if (this.closed) {
      this.deliver(this.redis.directClosed('the Redis store was closed'))
      return
    }
    if (this.socket === null) this.open()
    if (!this.ready) {
      this.held.push(bytes)
      return
    }
    this.socket.write(bytes)
    this.watch()
  }

  open () {
    const socket = typeof this.target.path === 'string'
      ? net.connect(this.target.path)
      : net.connect(this.target.port, this.target.host)
    this.socket = socket
    this.ready = false
    // What waits keeps the process alive through the native side's count, as
    // the IO thread's commands do; the socket itself never does.
    socket.unref()
    socket.setNoDelay(true)
    socket.on('data', (chunk) => this.receive(socket, chunk))
    socket.on('error', (err) => this.drop(socket, this.failure(err.message)))
    socket.on('close', () => this.drop(socket, this.failure('the connection closed')))
    socket.once('connect', () => {
      clearTimeout(this.connectTimer)
      this.connectTimer = null
      // The handshake's clock starts now; the connect timeout covered until now.
      this.redis.directWritten()
    })
    this.connectTimer = setTimeout(() => {
      this.drop(socket, this.failure(`timed out after connectTimeout (${this.connectTimeout} ms)`))
    }, this.connectTimeout)
    socket.write(this.redis.directHandshake(HANDSHAKE))
    this.watch()
  }

  receive (socket, chunk) {
    if (socket !== this.socket) return
    let replies
    try {
      replies = this.redis.directReceive(chunk)
    } catch (err) {
      this.drop(socket, `Redis error: ${this.target.name}: ${err.message}`)
      return
    }
    if (replies.length > 0 && replies[0] === HANDSHAKE) {
      if (!this.handshaken(socket, replies)) return
      replies = replies.slice(3)
    }
    if (replies.length > 0) this.deliver(replies)
  }

  // The handshake's reply leads `replies`: on success, what waited is
  // written; on failure the connection is dropped, failing it all.
  handshaken (socket, replies) {
    const failed = replies[1] === RedisReplyKind.Error
    if (failed) {
      this.drop(socket, this.failure(replies[2]))
      return false
    }
    this.ready = true
    const held = this.held
    this.held = []
    for (const bytes of held) socket.write(bytes)
    if (held.length > 0) this.redis.directWritten()
    return true
  }

  // Keeps the clock running while commands wait: the timer checks the oldest
  // wait, and stops at a check that finds none (one timer per
  // `commandTimeout`, not one per request).
  watch () {
    if (this.commandTimer === null) this.checkIn(this.commandTimeout)
  }

  checkIn (ms) {
    this.commandTimer = setTimeout(() => this.checkWaits(), ms)
    this.commandTimer.unref()
  }

  checkWaits () {
    this.commandTimer = null
    if (this.connectTimer !== null) {
      // Still connecting: the connect timeout bounds that.
      this.checkIn(this.commandTimeout)
      return
    }
    const waited = this.redis.directOldestWait()
    if (waited < 0) return
    if (waited >= this.commandTimeout) {
      this.drop(this.socket, `Redis command timed out after commandTimeout (${this.commandTimeout} ms)`)
      return
    }
    this.checkIn(this.commandTimeout - waited)
  }

  // What the commands on the connection fail with, as the IO thread says it.
  failure (why) {
    return this.ready
      ? `the connection to Redis was lost: ${this.target.name}: ${why}`
      : `cannot connect to Redis: ${this.target.name}: ${why}`
  }

  /** Drops `socket` (if it is still the connection): everything on it fails with `message`. */
  drop (socket, message) {
    if (socket === null || socket !== this.socket) return
    this.socket = null
    this.ready = false
    this.held = []
    clearTimeout(this.connectTimer)
    this.connectTimer = null
    clearTimeout(this.commandTimer)
    this.commandTimer = null
    socket.destroy()
    const replies = this.redis.directClosed(message)
    if (replies.length > 0) this.deliver(replies)
  }

  /** Ends the connection once what was written has been answered. */
  close () {
    this.closed = true
    const socket = this.socket
    if (socket === null) return
    if (this.redis.directOldestWait() < 0) {
      this.drop(socket, 'the Redis store was closed')
      return
    }
    socket.end()
  }
}

module.exports = { DirectLink, HANDSHAKE }
