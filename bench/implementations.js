'use strict'

// The two implementations under comparison, in the order they run (A, then B),
// and how each gets its stores. `stores.redis` is a per-implementation factory
// so express-session-rs can move to a native RedisStore without touching the
// benchmarks: it is used as soon as the package exports one. BENCH_RS_REDIS
// chooses explicitly: `native`, `connect-redis`, or `auto` (the default: native
// when exported and constructible, else connect-redis with a warning).

const path = require('path')

const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379'

// What express-session users run today: connect-redis over a node-redis client.
async function connectRedisStore (prefix) {
  const { createClient } = require('redis')
  const { RedisStore } = require('connect-redis')
  // No reconnecting: a Redis that goes away must fail the run, not stall it.
  const client = createClient({ url: REDIS_URL, socket: { reconnectStrategy: false } })
  client.on('error', (err) => {
    console.error(`redis client error: ${err.message}`)
  })
  await client.connect()
  return {
    store: new RedisStore({ client, prefix }),
    description: 'connect-redis',
    close: () => client.close()
  }
}

async function nativeRedisStore (session, prefix) {
  const store = new session.RedisStore({ url: REDIS_URL, prefix })
  return {
    store,
    description: 'native RedisStore',
    close: () => store.close()
  }
}

async function oursRedisStore (session, prefix) {
  const choice = process.env.BENCH_RS_REDIS || 'auto'
  if (!['auto', 'native', 'connect-redis'].includes(choice)) {
    throw new Error(`BENCH_RS_REDIS must be auto, native or connect-redis, got ${choice}`)
  }
  const exported = typeof session.RedisStore === 'function'
  if (choice === 'native' || (choice === 'auto' && exported)) {
    try {
      return await nativeRedisStore(session, prefix)
    } catch (err) {
      if (choice === 'native') throw err
      // Exported but not usable yet (e.g. an addon built before it existed):
      // say so, and label the results, rather than stop the whole run.
      console.error(`warning: express-session-rs RedisStore failed (${err.message}); using connect-redis`)
      const fallback = await connectRedisStore(prefix)
      fallback.description = 'connect-redis, native RedisStore failed'
      return fallback
    }
  }
  return connectRedisStore(prefix)
}

function memoryStore (session, options) {
  return {
    store: new session.MemoryStore(options),
    description: 'MemoryStore',
    close: async () => {}
  }
}

const implementations = [
  {
    name: 'express-session',
    load: () => require('express-session'),
    stores: {
      memory: memoryStore,
      redis: (session, prefix) => connectRedisStore(prefix)
    }
  },
  {
    name: 'express-session-rs',
    load: () => require(path.join(__dirname, '..')),
    stores: {
      memory: memoryStore,
      redis: oursRedisStore
    }
  }
]

// BENCH_BASELINE=<checkout>: compare against another build of express-session-rs
// (a checkout of an earlier commit, built) instead of express-session, so a
// change is measured before and after in one run.
if (process.env.BENCH_BASELINE) {
  const baseline = path.resolve(process.env.BENCH_BASELINE)
  implementations[0] = {
    name: 'express-session-rs@baseline',
    load: () => require(baseline),
    root: baseline,
    stores: { memory: memoryStore, redis: oursRedisStore }
  }
}

// The API-shape floor (floor.js): what any middleware with express-session's
// API costs at the least, with the least store work. Only the HTTP benchmark
// runs it, beside the two, unless BENCH_FLOOR=0.
const floor = {
  name: 'floor',
  load: () => require('./floor').floorSession,
  stores: {
    memory: () => ({ store: require('./floor').mapStore(), description: 'Map', close: async () => {} }),
    redis: (session, prefix) => {
      const store = require('./floor').redisStore(REDIS_URL, prefix)
      return { store, description: 'RESP on the main thread', close: async () => store.close() }
    }
  }
}

const [THEIRS, OURS] = implementations.map((impl) => impl.name)

function implementationByName (name) {
  const impl = [...implementations, floor].find((i) => i.name === name)
  if (!impl) throw new Error(`unknown implementation ${name}`)
  return impl
}

module.exports = { implementations, floor, implementationByName, THEIRS, OURS, FLOOR: floor.name, REDIS_URL }
