#!/usr/bin/env node
'use strict'

// Runs express-session's own test suite against this package.
//
//   npm run test:upstream -- <path to a checkout of github:expressjs/session>
//
// The suite's `test/` is copied to a scratch folder beside two shims, `index.js`
// and `session/cookie.js`, so that its `require('../')` and
// `require('../session/cookie')` load this package. The suite's own pinned
// devDependencies are installed there, then its mocha command runs. Nothing is
// written into this repository or the checkout. Ends with `N passed, M failed`.

const { execFileSync, spawnSync } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')

const projectRoot = path.resolve(__dirname, '..')

function main () {
  const checkout = process.argv[2]
  if (!checkout) {
    console.error('usage: npm run test:upstream -- <path to a checkout of expressjs/session>')
    process.exit(2)
  }

  const upstream = path.resolve(checkout)
  const manifest = JSON.parse(fs.readFileSync(path.join(upstream, 'package.json'), 'utf8'))
  const devDependencies = manifest.devDependencies || {}
  const needed = ['after', 'cookie-parser', 'express', 'mocha', 'supertest']
  const dependencies = Object.fromEntries(needed.map((name) => [name, devDependencies[name] || '*']))

  // One scratch folder per set of pinned versions, so reruns skip the install.
  const key = crypto.createHash('sha256').update(JSON.stringify(dependencies)).digest('hex').slice(0, 12)
  const scratch = path.join(os.tmpdir(), 'express-session-rs-upstream-' + key)
  fs.mkdirSync(scratch, { recursive: true })

  fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({
    name: 'express-session-upstream-suite',
    private: true,
    dependencies
  }, null, 2))

  if (!fs.existsSync(path.join(scratch, 'node_modules', '.bin', 'mocha'))) {
    console.log('installing the suite\'s devDependencies in ' + scratch)
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: scratch, stdio: 'inherit' })
  }

  fs.rmSync(path.join(scratch, 'test'), { recursive: true, force: true })
  fs.cpSync(path.join(upstream, 'test'), path.join(scratch, 'test'), { recursive: true })

  fs.writeFileSync(path.join(scratch, 'index.js'),
    'module.exports = require(' + JSON.stringify(projectRoot) + ')\n')
  fs.mkdirSync(path.join(scratch, 'session'), { recursive: true })
  fs.writeFileSync(path.join(scratch, 'session', 'cookie.js'),
    'module.exports = require(' + JSON.stringify(path.join(projectRoot, 'lib', 'cookie.js')) + ')\n')

  makeCertificate(path.join(scratch, 'test', 'fixtures'))

  const mocha = path.join(scratch, 'node_modules', '.bin', 'mocha')
  const run = spawnSync(mocha, ['--require', 'test/support/env', '--check-leaks', '--no-exit', '--reporter', 'spec', 'test/'], {
    cwd: scratch,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit']
  })
  process.stdout.write(run.stdout || '')

  const passed = count(run.stdout, /^\s*(\d+) passing/m)
  const failed = count(run.stdout, /^\s*(\d+) failing/m)
  if (run.status !== 0 && failed === 0) {
    console.log('mocha exited with ' + run.status)
  }
  console.log(passed + ' passed, ' + failed + ' failed')
  process.exit(failed === 0 && run.status === 0 ? 0 : 1)
}

// The suite's https tests need a self-signed certificate, as its gencert.sh makes.
function makeCertificate (dir) {
  fs.mkdirSync(dir, { recursive: true })
  if (fs.existsSync(path.join(dir, 'server.key'))) return
  execFileSync('openssl', [
    'req', '-x509', '-nodes', '-newkey', 'rsa:2048',
    '-keyout', path.join(dir, 'server.key'),
    '-out', path.join(dir, 'server.crt'),
    '-days', '3650',
    '-subj', '/CN=express-session.local'
  ], { stdio: 'ignore' })
}

function count (text, pattern) {
  const match = pattern.exec(text || '')
  return match ? Number(match[1]) : 0
}

main()
