'use strict'

// What outside the process a test needs: a Redis on 127.0.0.1:6379 ('redis'),
// PostgreSQL ('postgres'), the redis-server binary to start servers of its own
// ('redis-server'), Chromium ('chromium'). By default every one is expected, and
// a test whose service is missing fails, loudly. A runner that lacks some says
// which it has, ESRS_TEST_SERVICES=redis,postgres (or none), and the tests that
// need the others are skipped with the reason in the report.

const ALL = ['redis', 'postgres', 'redis-server', 'chromium']
const listed = process.env.ESRS_TEST_SERVICES
const available = new Set(listed === undefined
  ? ALL
  : listed.split(',').map((name) => name.trim()).filter((name) => name && name !== 'none'))

/** Options for describe/it: skipped, saying why, when a needed service is absent. */
function needs (...services) {
  const missing = services.filter((service) => service && !available.has(service))
  return missing.length ? { skip: `needs ${missing.join(', ')}, which ESRS_TEST_SERVICES leaves out` } : {}
}

module.exports = { needs }
