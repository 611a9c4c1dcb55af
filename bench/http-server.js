'use strict'

// The app under test for one (implementation, scenario): an Express 4 app in a
// process of its own, pinned to CPU 0 by bench/http.js, so the load generator
// never competes with it. It samples its own CPU time around each measured run
// and answers over IPC, so only the server's work is counted.

const express = require('express')
const { implementationByName } = require('./implementations')
const { scenarioByName, handlers, seedSession, sessionOptions } = require('./scenarios')

async function main () {
  const impl = implementationByName(process.env.BENCH_IMPL)
  const scenario = scenarioByName(process.env.BENCH_SCENARIO)
  const app = express()
  let backend = null
  let seededId = null

  if (scenario.session) {
    const session = impl.load()
    // A prefix of our own, so runs never see each other's keys in Redis.
    const prefix = `bench:${process.pid}:${scenario.name}:`
    backend = await impl.stores[scenario.store](session, prefix)
    app.use(session(sessionOptions(scenario, backend.store)))

    // The returning visitor's session, made by the parent's first request.
    app.get('/seed', (req, res) => {
      seedSession(req.session)
      seededId = req.sessionID
      res.send('seeded')
    })
  }

  const handler = handlers[scenario.handler]
  app.get('/', (req, res) => {
    res.send(handler(req))
  })

  // Failures reach the parent as 500s (which fail the run); log only the first
  // so thousands of identical stacks do not drown it.
  let logged = false
  app.use((err, req, res, next) => {
    if (!logged) {
      logged = true
      console.error(`[${impl.name} ${scenario.name}] ${err.stack}`)
    }
    res.status(500).send('error')
  })

  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })

  // The visit counter as the store holds it: proof that writes were saved.
  function storedCount () {
    if (seededId === null) return Promise.resolve(null)
    return new Promise((resolve, reject) => {
      backend.store.get(seededId, (err, sess) => {
        if (err) reject(err)
        else resolve(sess ? sess.count : undefined)
      })
    })
  }

  let cpuStart = null
  const commands = {
    // Store reads happen outside the CPU window.
    async begin () {
      const count = await storedCount()
      cpuStart = process.cpuUsage()
      return { count }
    },
    async end () {
      const cpu = process.cpuUsage(cpuStart)
      const count = await storedCount()
      return { cpuMicros: cpu.user + cpu.system, count }
    },
    async close () {
      server.close()
      server.closeAllConnections()
      if (backend) {
        if (seededId !== null) {
          await new Promise((resolve) => backend.store.destroy(seededId, () => resolve()))
        }
        await backend.close()
      }
      return {}
    }
  }

  process.on('message', async (msg) => {
    let reply
    try {
      reply = { type: msg.type, ok: true, ...(await commands[msg.type]()) }
    } catch (err) {
      reply = { type: msg.type, ok: false, error: err.stack || String(err) }
    }
    process.send(reply, () => {
      if (msg.type === 'close') process.exit(0)
    })
  })

  // The parent is gone (crashed or interrupted): do not linger.
  process.on('disconnect', () => process.exit(0))

  process.send({ type: 'ready', port: server.address().port, store: backend && backend.description })
}

main().catch((err) => {
  console.error(err.stack || err)
  process.exit(1)
})
