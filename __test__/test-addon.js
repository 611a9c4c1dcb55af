'use strict'

// The debug addon built with the cargo feature `test-hooks`, the only build that
// exports what just the tests call (__panicForTests, decodeCookieValue): the
// release binary does not carry them. `npm test` builds it first (pretest runs
// `npm run build:test-addon`).

const fs = require('node:fs')
const path = require('node:path')

const TEST_ADDON_PATH = path.join(__dirname, '..', 'target', 'test-addon', 'express-session-rs.node')

/** The test addon's exports; throws (failing the test) when it was not built. */
function loadTestAddon () {
  if (!fs.existsSync(TEST_ADDON_PATH)) {
    throw new Error(`The test addon ${TEST_ADDON_PATH} is missing: build it with \`npm run build:test-addon\` (\`npm test\` does so first).`)
  }
  return require(TEST_ADDON_PATH)
}

module.exports = { loadTestAddon, TEST_ADDON_PATH }
