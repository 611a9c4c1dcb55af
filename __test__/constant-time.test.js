'use strict'

// Signature checks take the same path whatever the forged signature: counted in
// instructions with valgrind's callgrind (exact and repeatable, unlike time),
// a forgery wrong in its first character costs what one wrong in its last does.
// A byte-by-byte comparison that stops early would differ by thousands.

const { it } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')
const hasValgrind = spawnSync('valgrind', ['--version']).status === 0
const hasCargo = spawnSync('cargo', ['--version']).status === 0

it('compares signatures in constant time', { skip: !(hasValgrind && hasCargo) && 'needs valgrind and cargo' }, () => {
  const build = spawnSync('cargo', ['build', '--quiet', '--example', 'unsign_probe', '--no-default-features', '--features', 'probe', '--profile', 'lean'], { cwd: root, encoding: 'utf8' })
  assert.equal(build.status, 0, build.stderr)
  const probe = path.join(root, 'target', 'lean', 'examples', 'unsign_probe')

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esrs-callgrind-'))
  try {
    const instructions = (position) => {
      const out = path.join(dir, position + '.out')
      const run = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, probe, position], { encoding: 'utf8' })
      assert.equal(run.status, 0, run.stderr)
      const match = /^summary:\s+(\d+)/m.exec(fs.readFileSync(out, 'utf8'))
      assert.ok(match, 'callgrind wrote a summary')
      return Number(match[1])
    }
    const head = instructions('head')
    const tail = instructions('tail')
    assert.equal(head, tail, `instructions with the difference first: ${head}, last: ${tail}`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
