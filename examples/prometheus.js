'use strict'

// Exposes a session middleware's metrics to Prometheus with prom-client:
//
//   const client = require('prom-client')
//   const sessions = session({ ... })
//   app.use(sessions)
//   registerSessionMetrics(sessions, client)
//   app.get('/metrics', async (req, res) => {
//     res.type(client.register.contentType).send(await client.register.metrics())
//   })
//
// Each counter of `sessions.metrics()` becomes a counter, and each store
// operation's latency a gauge per statistic, read when Prometheus scrapes.

function registerSessionMetrics (middleware, client, { registry = client.register, prefix = 'express_session_' } = {}) {
  const latest = () => middleware.metrics()
  for (const name of Object.keys(latest())) {
    if (name === 'storeLatency') continue
    const metric = new client.Counter({
      name: prefix + snakeCase(name) + '_total',
      help: `express-session-rs: ${name}`,
      registers: [registry],
      collect () {
        // A counter is only ever increased: bring it up to the middleware's count.
        this.inc(Math.max(0, latest()[name] - (this.lastSeen || 0)))
        this.lastSeen = latest()[name]
      }
    })
    metric.lastSeen = 0
  }
  new client.Gauge({ // eslint-disable-line no-new
    name: prefix + 'store_latency_ms',
    help: 'express-session-rs: store call time in ms since start',
    labelNames: ['operation', 'statistic'],
    registers: [registry],
    collect () {
      for (const [operation, latency] of Object.entries(latest().storeLatency)) {
        for (const statistic of ['p50', 'p99', 'max']) this.set({ operation, statistic }, latency[statistic])
      }
    }
  })
}

function snakeCase (name) {
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())
}

module.exports = { registerSessionMetrics }
