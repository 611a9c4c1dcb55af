#!/usr/bin/env node
'use strict'

// Packaging proof: the published packages work on a machine with no Rust.
//
//   npm run build && npm run test:package
//
// Makes the host's platform package the napi-rs way (napi create-npm-dirs, the
// release binary copied in), packs it and the root package with `npm pack`,
// installs both tarballs with Express into a fresh temporary app whose PATH has
// no cargo or rustc, and runs a session round trip over HTTP there: create,
// read back, modify, regenerate, destroy. Fails loudly on any step.
//
//   npm run build && npm run pack:local       (the same, keeping the tarballs)
//
// leaves the two tarballs in dist/, to install into an app of your own as a
// user would: npm install <dist/express-session-rs-*.tgz> <dist/...-<platform>-*.tgz>

const { execFileSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const root = path.resolve(__dirname, '..')
const keepAt = process.argv.indexOf('--keep') !== -1 ? path.resolve(root, process.argv[process.argv.indexOf('--keep') + 1] || 'dist') : null
const pkg = require(path.join(root, 'package.json'))
const { platformTriple } = require(path.join(root, 'lib', 'platform.js'))

function run (cmd, args, options = {}) {
  console.log('$ ' + [cmd, ...args].join(' '))
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options })
}

// A PATH with every folder that holds cargo or rustc taken out.
function pathWithoutRust () {
  return process.env.PATH.split(path.delimiter).filter((dir) =>
    !['cargo', 'rustc', 'rustup'].some((tool) => fs.existsSync(path.join(dir, tool)))
  ).join(path.delimiter)
}

function main () {
  const platform = platformTriple()
  const binaryName = `${pkg.napi.binaryName}.${platform}.node`
  const binary = path.join(root, binaryName)
  if (!fs.existsSync(binary)) throw new Error(`no ${binaryName}: run npm run build first`)

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'esrs-package-'))
  try {
    // npm/<platform>/ is generated (and ignored by git), as in the release workflow.
    run('npx', ['napi', 'create-npm-dirs'], { cwd: root })
    const platformDir = path.join(root, 'npm', platform)
    fs.copyFileSync(binary, path.join(platformDir, binaryName))

    const tarballs = path.join(work, 'tarballs')
    fs.mkdirSync(tarballs)
    const platformTgz = run('npm', ['pack', '--silent', '--pack-destination', tarballs], { cwd: platformDir }).trim().split('\n').pop()
    const rootTgz = run('npm', ['pack', '--silent', '--pack-destination', tarballs], { cwd: root }).trim().split('\n').pop()

    const listing = run('tar', ['-tzf', path.join(tarballs, rootTgz)])
    if (/\.node$/m.test(listing) || /src\/|Cargo\.toml/.test(listing)) {
      throw new Error('the root package must hold no binary and no Rust sources:\n' + listing)
    }

    const app = path.join(work, 'app')
    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'package-proof-app', private: true }))
    const env = { ...process.env, PATH: pathWithoutRust(), CARGO: '', RUSTC: '' }
    try {
      execFileSync('cargo', ['--version'], { env, stdio: 'ignore' })
      throw new Error('cargo is still on the PATH of the proof app')
    } catch (err) {
      if (err.code !== 'ENOENT') throw err
    }
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error',
      path.join(tarballs, rootTgz), path.join(tarballs, platformTgz), 'express@4'], { cwd: app, env })

    fs.writeFileSync(path.join(app, 'round-trip.js'), roundTripScript)
    process.stdout.write(run(process.execPath, ['round-trip.js'], { cwd: app, env }))
    console.log('package proof passed')

    if (keepAt) {
      fs.mkdirSync(keepAt, { recursive: true })
      const kept = [rootTgz, platformTgz].map((name) => {
        fs.copyFileSync(path.join(tarballs, name), path.join(keepAt, name))
        return path.join(keepAt, name)
      })
      console.log('\nTo install into an app of yours, as a user would (no Rust needed):\n\n  npm install ' + kept.join(' ') + '\n')
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

const roundTripScript = `
const assert = require('assert')
const http = require('http')
const express = require('express')
const session = require('express-session-rs')
const loaded = require.resolve('express-session-rs-${platformTriple()}')
assert.ok(loaded.includes('node_modules'), 'binary from the platform package: ' + loaded)

const app = express()
app.use(session({ secret: 'proof', resave: false, saveUninitialized: false }))
app.get('/set', (req, res) => { req.session.n = 1; res.end('set') })
app.get('/get', (req, res) => res.end(String(req.session.n)))
app.get('/inc', (req, res) => { req.session.n++; res.end(String(req.session.n)) })
app.get('/regenerate', (req, res) => req.session.regenerate(() => { req.session.n = 10; res.end('regenerated') }))
app.get('/destroy', (req, res) => req.session.destroy(() => res.end('destroyed')))

function get (port, path, cookie) {
  return new Promise((resolve, reject) => {
    http.get({ port, path, headers: cookie ? { cookie } : {} }, (res) => {
      let body = ''
      res.on('data', (c) => { body += c })
      res.on('end', () => resolve({ body, cookie: (res.headers['set-cookie'] || [])[0] }))
    }).on('error', reject)
  })
}

const server = app.listen(0, async () => {
  const port = server.address().port
  try {
    const created = await get(port, '/set')
    const cookie = created.cookie.split(';')[0]
    assert.equal((await get(port, '/get', cookie)).body, '1')
    assert.equal((await get(port, '/inc', cookie)).body, '2')
    const regenerated = await get(port, '/regenerate', cookie)
    const newCookie = regenerated.cookie.split(';')[0]
    assert.notEqual(newCookie, cookie)
    assert.equal((await get(port, '/get', cookie)).body, 'undefined')
    assert.equal((await get(port, '/get', newCookie)).body, '10')
    assert.equal((await get(port, '/destroy', newCookie)).body, 'destroyed')
    assert.equal((await get(port, '/get', newCookie)).body, 'undefined')
    console.log('round trip over HTTP: create, read, modify, regenerate, destroy: ok')
  } catch (err) {
    console.error(err)
    process.exitCode = 1
  } finally {
    server.close()
  }
})
`

main()
