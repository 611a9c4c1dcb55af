'use strict'

// A real browser (Debian's Chromium, headless, driven by playwright-core) on
// the demo and on a login/logout app over https: the session cookie as the
// browser stores it, and what it does across reloads and after a logout.
// .ci/run installs Chromium when it is missing; without it these tests fail
// and say how to get it.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const https = require('node:https')
const os = require('node:os')
const path = require('node:path')
const express = require('express')
const { chromium } = require('playwright-core')
const session = require('..')
const { freePort, sleep } = require('./redis-servers')
const { needs } = require('./services')

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((file) => fs.existsSync(file))

describe('in Chromium', needs('chromium'), () => {
  let browser
  before(async () => {
    assert.ok(CHROMIUM, 'Chromium is not installed: apt-get install chromium (.ci/run does)')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  })
  after(async () => {
    if (browser) await browser.close()
  })

  describe('the demo in a browser', () => {
    let demo
    let url
    before(async () => {
      const port = await freePort()
      demo = spawn(process.execPath, [path.join(__dirname, '..', 'examples', 'demo.js')], {
        env: { ...process.env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'inherit']
      })
      await new Promise((resolve) => demo.stdout.once('data', resolve))
      url = `http://127.0.0.1:${port}/`
    })
    after(() => demo.kill())

    it('keeps the counter across reloads, in an HttpOnly, SameSite=Lax cookie that expires', async () => {
      const context = await browser.newContext()
      try {
        const page = await context.newPage()
        await page.goto(url)
        assert.match(await page.textContent('body'), /viewed \/ 1 time/)
        await page.reload()
        await page.reload()
        assert.match(await page.textContent('body'), /viewed \/ 3 time/)

        const [cookie] = await context.cookies()
        assert.equal(cookie.name, 'connect.sid')
        assert.equal(cookie.httpOnly, true)
        assert.equal(cookie.sameSite, 'Lax')
        assert.equal(cookie.secure, false)
        // maxAge 30 minutes, counted from the last response.
        const left = cookie.expires * 1000 - Date.now()
        assert.ok(left > 29 * 60 * 1000 && left <= 30 * 60 * 1000, `expires in ${left} ms`)

        // Another browser profile is another visitor.
        const other = await browser.newContext()
        const otherPage = await other.newPage()
        await otherPage.goto(url)
        assert.match(await otherPage.textContent('body'), /viewed \/ 1 time/)
        await other.close()
      } finally {
        await context.close()
      }
    })
  })

  describe('login and logout over https', () => {
    let server
    let origin
    let dir
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esrs-browser-'))
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
        '-subj', '/CN=localhost', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { encoding: 'utf8' })
      assert.equal(made.status, 0, made.stderr)

      const app = express()
      app.use(session({
        secret: 'browser',
        resave: false,
        saveUninitialized: false,
        cookie: { secure: 'auto', sameSite: 'none', partitioned: true, maxAge: 10 * 60 * 1000 }
      }))
      app.get('/login', async (req, res, next) => {
        try {
          await req.session.regenerate()
          req.session.user = 'alice'
          res.send('welcome')
        } catch (err) {
          next(err)
        }
      })
      app.get('/me', (req, res) => res.send(req.session.user || 'nobody'))
      app.get('/logout', async (req, res, next) => {
        try {
          await req.session.destroy()
          res.send('bye')
        } catch (err) {
          next(err)
        }
      })
      server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, app)
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
      origin = `https://localhost:${server.address().port}`
    })
    after(async () => {
      await new Promise((resolve) => server.close(resolve))
      fs.rmSync(dir, { recursive: true, force: true })
    })

    it('sets a Secure, SameSite=None, Partitioned cookie, and a logged-out cookie no longer works', async () => {
      const context = await browser.newContext({ ignoreHTTPSErrors: true })
      try {
        const page = await context.newPage()
        const login = await page.goto(origin + '/login')
        const setCookie = (await login.allHeaders())['set-cookie']
        assert.match(setCookie, /; Secure/)
        assert.match(setCookie, /; Partitioned/)
        assert.match(setCookie, /; SameSite=None/)
        await page.goto(origin + '/me')
        assert.equal(await page.textContent('body'), 'alice')

        const [cookie] = await context.cookies()
        assert.equal(cookie.secure, true)
        assert.equal(cookie.sameSite, 'None')
        assert.equal(cookie.httpOnly, true)
        assert.ok(cookie.partitionKey !== undefined, 'stored as a partitioned cookie: ' + JSON.stringify(cookie))

        await page.goto(origin + '/logout')
        assert.equal(await page.textContent('body'), 'bye')
        // The cookie from before the logout, put back as an attacker would.
        await context.addCookies([cookie])
        await sleep(10)
        await page.goto(origin + '/me')
        assert.equal(await page.textContent('body'), 'nobody')
      } finally {
        await context.close()
      }
    })
  })
})
