'use strict'

// Counters since the middleware was made, and how long store calls took, for
// `session(options).metrics()`. Counting is an increment; a store call's time
// goes into a histogram of fixed buckets (eight per doubling, so a percentile
// is read to within about 9 %), with no allocation per call.

const { performance } = require('node:perf_hooks')

const COUNTERS = [
  'created', // new sessions made for requests without one
  'loaded', // sessions found in the store
  'notFound', // a session ID the store had no session for
  'saved',
  'touched',
  'touchSkipped', // touches left out by touchAfter
  'destroyed',
  'regenerated',
  'invalidSignature', // a session cookie whose signature did not verify
  'absoluteExpired', // sessions ended by absoluteTimeout
  'conflicts', // saves that found the session changed by another request
  'merged', // saves written after re-applying their changes
  'notWrittenBack', // saves left out because the session had left the store
  'storeErrors',
  'storeTimeouts'
]

const OPERATIONS = ['get', 'set', 'touch', 'destroy']

const BUCKETS_PER_DOUBLING = 8
// From 1 µs to about 2^31 µs (36 minutes); longer calls count in the last.
const BUCKETS = 32 * BUCKETS_PER_DOUBLING

class LatencyHistogram {
  constructor () {
    this.counts = new Uint32Array(BUCKETS)
    this.count = 0
    this.max = 0
  }

  record (ms) {
    const us = ms * 1000
    const index = us <= 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(us) * BUCKETS_PER_DOUBLING))
    this.counts[index]++
    this.count++
    if (ms > this.max) this.max = ms
  }

  // The upper bound (ms) of the bucket that holds the q-quantile.
  quantile (q) {
    if (this.count === 0) return 0
    const rank = Math.ceil(q * this.count)
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]
      if (seen >= rank) return Math.min(this.max, 2 ** ((i + 1) / BUCKETS_PER_DOUBLING) / 1000)
    }
    return this.max
  }

  toJSON () {
    return { count: this.count, p50: this.quantile(0.5), p99: this.quantile(0.99), max: this.max }
  }
}

class Metrics {
  constructor () {
    for (const name of COUNTERS) this[name] = 0
    this.latency = {}
    for (const operation of OPERATIONS) this.latency[operation] = new LatencyHistogram()
  }

  /** A store call's start, for `storeCallEnded`. */
  static now () {
    return performance.now()
  }

  storeCallEnded (operation, started, err) {
    this.latency[operation].record(performance.now() - started)
    if (err) {
      if (err.code === 'ERR_SESSION_STORE_TIMEOUT') this.storeTimeouts++
      else this.storeErrors++
    }
  }

  /** A plain object: the counters, and `storeLatency` per operation in ms. */
  snapshot () {
    const out = {}
    for (const name of COUNTERS) out[name] = this[name]
    out.storeLatency = {}
    for (const operation of OPERATIONS) out.storeLatency[operation] = this.latency[operation].toJSON()
    return out
  }
}

module.exports = Metrics
