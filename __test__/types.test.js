'use strict'

// TypeScript: sample apps (in types/) type-check against index.d.ts, one written
// for @types/express-session under the name 'express-session', one using this
// package's own name and additions. Their @ts-expect-error lines make the check
// fail if the types ever loosen to `any`.

const { it } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

it('sample apps type-check against index.d.ts under both module names', () => {
  const tsc = require.resolve('typescript/bin/tsc')
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types')], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stdout + run.stderr)
})
