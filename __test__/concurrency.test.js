'use strict'

// Parallel writes to one session: the last write wins whole, as with
// express-session; no session ever holds a mix of two requests' writes.

const { it } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const session = require('..')
const { listen, appWith, send, cookiePair, storeCall } = require('./helpers')
const { needs } = require('./services')

for (const [label, makeStore] of [['MemoryStore', () => new session.MemoryStore()], ['RedisStore', () => new session.RedisStore({ prefix: `esrs-concurrency:${process.pid}:` })]]) {
  it(`parallel writes to one session leave one whole write (${label})`, needs(label === 'RedisStore' && 'redis'), async () => {
    const store = makeStore()
    const server = await listen(appWith(session({ secret: 's', resave: false, saveUninitialized: false, store }), (req, res) => {
      const n = Number(req.query.n)
      // Several fields from the same request, with a pause in the middle, so
      // that requests interleave.
      req.session.a = n
      setImmediate(() => {
        req.session.b = { n, list: Array.from({ length: 20 }, () => n) }
        req.session.c = 'request ' + n
        res.end(String(n))
      })
    }))
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
    try {
      const cookie = cookiePair(await send(server.url + '/?n=0'))
      const sid = decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
      for (let round = 0; round < 5; round++) {
        const ns = Array.from({ length: 40 }, (_, i) => round * 100 + i + 1)
        await Promise.all(ns.map((n) => new Promise((resolve, reject) => {
          http.get(`${server.url}/?n=${n}`, { agent, headers: { cookie } }, (res) => res.resume().on('end', resolve)).on('error', reject)
        })))
        const stored = await storeCall(store, 'get', sid)
        const n = stored.a
        assert.ok(ns.includes(n), `a is one request's value: ${n}`)
        assert.deepEqual(stored.b, { n, list: Array(20).fill(n) })
        assert.equal(stored.c, 'request ' + n)
      }
    } finally {
      agent.destroy()
      await server.close()
      if (store.close) await store.close()
    }
  })
}
