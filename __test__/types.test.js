'use strict'

// TypeScript: sample apps (in types/) type-check against index.d.ts, one written
// for @types/express-session under the name 'express-session', one using this
// package's own name and additions. Their @ts-expect-error lines make the check
// fail if the types ever loosen to `any`.

const { it } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const tsc = require.resolve('typescript/bin/tsc')
const compile = (project) => spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', project)], { encoding: 'utf8' })

it('sample apps type-check against index.d.ts under both module names', () => {
  const run = compile('tsconfig.json')
  assert.equal(run.status, 0, run.stdout + run.stderr)
})

it('the same apps type-check with @types/express 5', () => {
  const run = compile('tsconfig.express5.json')
  assert.equal(run.status, 0, run.stdout + run.stderr)
})

// So the app above is one @types/express-session accepts: what it checks is
// that such an app compiles unchanged against these types.
it('the app written for @types/express-session type-checks against @types/express-session itself', () => {
  const run = compile('tsconfig.original.json')
  assert.equal(run.status, 0, run.stdout + run.stderr)
})
