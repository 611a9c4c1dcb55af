'use strict'

// Without a binary, loading the package fails with an error that names the
// platform package to install.

const { it } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

it('names the missing platform package when no binary fits', () => {
  const root = path.join(__dirname, '..')
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'esrs-nobinary-'))
  try {
    for (const file of ['index.js', 'binding.js', 'package.json']) fs.copyFileSync(path.join(root, file), path.join(copy, file))
    fs.cpSync(path.join(root, 'lib'), path.join(copy, 'lib'), { recursive: true })
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'))
    const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(copy)})`], { encoding: 'utf8' })
    assert.notEqual(run.status, 0)
    assert.match(run.stderr, /express-session-rs: no native binary could be loaded/)
    assert.match(run.stderr, new RegExp(`express-session-rs-${process.platform}-${process.arch}`))
    assert.match(run.stderr, /ERR_EXPRESS_SESSION_RS_NO_BINARY/)
    // Nothing that points the wrong way: no WebAssembly package, no npm bug link.
    assert.doesNotMatch(run.stderr, /wasm32-wasi|wasi/i)
    assert.doesNotMatch(run.stderr, /npm\/cli\/issues/)
    assert.match(run.stderr, /Cannot find module/, 'the cause still says what failed')
  } finally {
    fs.rmSync(copy, { recursive: true, force: true })
  }
})
