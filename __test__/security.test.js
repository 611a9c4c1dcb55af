'use strict'

// Security properties, each seen from outside: fixation, destroyed sessions,
// secrets in errors, secure cookies over plain http.

const { it } = require('node:test')
const assert = require('node:assert/strict')
const express = require('express')
const session = require('..')
const { listen, send, cookiePair, storeCall } = require('./helpers')

const SECRET = 'a-secret-that-must-never-show'
const sidOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]

function app (store, cookie = {}) {
  const errors = []
  const a = express()
  a.use(session({ secret: SECRET, resave: false, saveUninitialized: false, store, cookie }))
  a.get('/login', (req, res) => req.session.regenerate(() => { req.session.user = 'alice'; res.end('in') }))
  a.get('/logout', (req, res) => req.session.destroy(() => res.end('out')))
  a.get('/touch', (req, res) => { req.session.seen = true; res.end(req.session.user || 'nobody') })
  a.use((err, req, res, next) => { errors.push(err); res.status(500).end(err.message) })
  return { app: a, errors }
}

it('regenerate at login leaves the pre-login session ID useless (fixation)', async () => {
  const store = new session.MemoryStore()
  const server = await listen(app(store).app)
  try {
    const planted = cookiePair(await send(server.url + '/touch'))
    const login = await send(server.url + '/login', { headers: { cookie: planted } })
    const loggedIn = cookiePair(login)
    assert.notEqual(sidOf(loggedIn), sidOf(planted))
    assert.equal(await storeCall(store, 'get', sidOf(planted)), undefined)
    assert.equal((await send(server.url + '/touch', { headers: { cookie: planted } })).body, 'nobody')
    assert.equal((await send(server.url + '/touch', { headers: { cookie: loggedIn } })).body, 'alice')
  } finally {
    await server.close()
  }
})

it('a destroyed session\'s cookie never brings it back', async () => {
  const store = new session.MemoryStore()
  const server = await listen(app(store).app)
  try {
    const cookie = cookiePair(await send(server.url + '/login'))
    await send(server.url + '/logout', { headers: { cookie } })
    const after = await send(server.url + '/touch', { headers: { cookie } })
    assert.equal(after.body, 'nobody')
    assert.notEqual(sidOf(cookiePair(after)), sidOf(cookie), 'a new ID, not the old one')
    assert.equal(await storeCall(store, 'get', sidOf(cookie)), undefined)
  } finally {
    await server.close()
  }
})

it('errors never carry the secret', async () => {
  const store = new session.MemoryStore()
  const { app: a, errors } = app(store, { domain: 'not a domain' })
  const server = await listen(a)
  try {
    await send(server.url + '/touch')
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.ok(errors.length > 0, 'the invalid domain made an error')
    for (const err of errors) {
      assert.doesNotMatch(String(err.message) + String(err.stack), new RegExp(SECRET))
    }
  } finally {
    await server.close()
  }
})

it('a secure cookie is never sent over plain http unless a trusted proxy says https', async () => {
  const store = new session.MemoryStore()
  for (const [proxy, headers, expected] of [
    [undefined, {}, 0],
    [false, { 'x-forwarded-proto': 'https' }, 0],
    [true, { 'x-forwarded-proto': 'http' }, 0],
    [true, { 'x-forwarded-proto': 'https' }, 1]
  ]) {
    const a = express()
    a.use(session({ secret: SECRET, resave: false, saveUninitialized: true, store, proxy, cookie: { secure: true } }))
    a.use((req, res) => res.end())
    const server = await listen(a)
    try {
      const response = await send(server.url, { headers })
      assert.equal(response.setCookie.length, expected, `proxy ${proxy}, ${JSON.stringify(headers)}`)
    } finally {
      await server.close()
    }
  }
})
