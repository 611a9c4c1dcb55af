'use strict'

// DEBUG=express-session-rs shows what the middleware decides, and never a secret.

const { it } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')

// Runs `script` in a child with DEBUG=express-session-rs; its stderr.
async function debugOutput (script) {
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, DEBUG: 'express-session-rs', DEBUG_COLORS: '0' } })
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const code = await new Promise((resolve) => child.on('exit', resolve))
  assert.equal(code, 0, stderr)
  return stderr
}

it('DEBUG=express-session-rs prints the decisions and never the secret', async () => {
  const script = `
    const http = require('http')
    const session = require(${JSON.stringify(path.join(__dirname, '..'))})
    const mw = session({ secret: 'TOP-SECRET-VALUE', resave: false, saveUninitialized: false })
    const server = http.createServer((req, res) => mw(req, res, () => { req.session.n = 1; res.end('ok') }))
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port
      http.get({ port, host: '127.0.0.1' }, (res) => {
        const cookie = res.headers['set-cookie'][0].split(';')[0]
        res.resume().on('end', () => http.get({ port, host: '127.0.0.1', headers: { cookie: cookie + 'x' } }, (res2) => {
          res2.resume().on('end', () => server.close())
        }))
      })
    })
  `
  const stderr = await debugOutput(script)
  assert.match(stderr, /express-session-rs no SID sent, generating session/)
  assert.match(stderr, /express-session-rs set-cookie connect\.sid=s%3A/)
  assert.match(stderr, /express-session-rs no valid signed session cookie/)
  assert.doesNotMatch(stderr, /TOP-SECRET-VALUE/)
})

it('DEBUG=express-session-rs prints a store error with its message and code', async () => {
  const script = `
    const http = require('http')
    const session = require(${JSON.stringify(path.join(__dirname, '..'))})
    const store = new session.MemoryStore()
    store.get = (sid, cb) => { const err = new Error('disk on fire'); err.code = 'EFIRE'; cb(err) }
    const mw = session({ secret: 's', resave: false, saveUninitialized: true, store, genid: () => 'fixed' })
    const server = http.createServer((req, res) => mw(req, res, (err) => { res.statusCode = err ? 500 : 200; res.end() }))
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port
      http.get({ port, host: '127.0.0.1' }, (res) => {
        const cookie = res.headers['set-cookie'][0].split(';')[0]
        res.resume().on('end', () => http.get({ port, host: '127.0.0.1', headers: { cookie } }, (res2) => {
          res2.resume().on('end', () => server.close())
        }))
      })
    })
  `
  const stderr = await debugOutput(script)
  assert.match(stderr, /express-session-rs error disk on fire \(EFIRE\)/)
  assert.doesNotMatch(stderr, /error \{\}/)
})
