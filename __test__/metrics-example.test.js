'use strict'

// examples/prometheus.js: a session middleware's metrics scraped through
// prom-client, as the README shows.

const { it } = require('node:test')
const assert = require('node:assert/strict')
const client = require('prom-client')
const session = require('..')
const { registerSessionMetrics } = require('../examples/prometheus')
const { listen, appWith, send, cookiePair } = require('./helpers')

it('exposes the counters and store latency in the Prometheus text format', async () => {
  const registry = new client.Registry()
  const sessions = session({ secret: 's', resave: false, saveUninitialized: false })
  registerSessionMetrics(sessions, client, { registry })
  const server = await listen(appWith(sessions, async (req, res) => {
    if (req.path === '/metrics') return res.type(registry.contentType).send(await registry.metrics())
    req.session.n = (req.session.n || 0) + 1
    res.end(String(req.session.n))
  }))
  try {
    const cookie = cookiePair(await send(server.url + '/'))
    await send(server.url + '/', { headers: { cookie } })
    const first = (await send(server.url + '/metrics')).body
    assert.match(first, /^express_session_created_total 2$/m, 'two new visitors: the one above and the scrape')
    assert.match(first, /^express_session_saved_total 2$/m)
    assert.match(first, /^express_session_loaded_total 1$/m)
    assert.match(first, /^express_session_store_latency_ms\{operation="get",statistic="p99"\} [0-9.e-]+$/m)
    await send(server.url + '/', { headers: { cookie } })
    const second = (await send(server.url + '/metrics')).body
    assert.match(second, /^express_session_saved_total 3$/m, 'counts keep rising between scrapes')
  } finally {
    await server.close()
  }
})
