// The same API under this package's own name, plus what it adds.
import express from 'express'
import session = require('express-session-rs')

declare module 'express-session-rs' {
  interface SessionData {
    cart: string[]
  }
}

const redis = new session.RedisStore({ url: 'redis://127.0.0.1:6379', prefix: 'app:', ttl: (sess) => (sess.cookie.maxAge ?? 0) / 1000, commandTimeout: 1000 })
const memory = new session.MemoryStore({ max: 10000, sweepInterval: 30000 })
// Never connected: the production shapes of the options only have to compile.
export const secured = new session.RedisStore({ url: 'rediss://cache.example:6380', username: 'app', password: 'pw', tls: { ca: Buffer.from('pem'), servername: 'cache.example', rejectUnauthorized: true } })
export const sentinel = new session.RedisStore({ sentinel: { nodes: ['redis://10.0.0.1:26379'], name: 'mymaster', password: 'spw', tls: true } })

const app = express()
app.use(session({ secret: Buffer.from('secret'), store: process.env.REDIS ? redis : memory, resave: false, saveUninitialized: false }))

app.post('/cart/:item', async (req, res) => {
  req.session.cart = [...(req.session.cart ?? []), req.params.item]
  await req.session.save()
  await req.session.reload()
  res.json(req.session.cart)
})

app.post('/logout', async (req, res) => {
  await req.session.regenerate()
  await req.session.destroy()
  const count: number = await redis.length()
  const ids: string[] = await redis.ids()
  res.json({ count, ids })
})

// @ts-expect-error the Promise form cannot be chained like the callback form
session.Session.prototype.save().touch()

export default app

// The lifecycle options, the owner index and the metrics.
declare module 'express-session-rs' {
  interface SessionData {
    userId: string
  }
}

const lifecycle = session({
  secret: 'secret',
  store: redis,
  resave: false,
  saveUninitialized: false,
  cookie: { maxAge: 3600000 },
  touchAfter: 60000,
  absoluteTimeout: 86400000,
  lastWriteWins: false,
  userOf: (sess) => sess.userId
})
app.use(lifecycle)

app.post('/login', async (req, res) => {
  await req.session.regenerate({ keep: true })
  req.session.userId = 'u1'
  const devices: session.OwnedSession[] = await redis.sessionsOf(req.session.userId)
  const ended: number = await memory.destroySessionsOf('u1', { except: req.sessionID })
  const metrics: session.SessionMetrics = lifecycle.metrics()
  res.json({ devices: devices.map((d) => d.id), ended, p99: metrics.storeLatency.get.p99, created: metrics.created })
})
