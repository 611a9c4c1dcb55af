'use strict'

// Option checking and the behaviours that hang on single options.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const cookieParser = require('cookie-parser')
const express = require('express')
const session = require('..')
const { listen, appWith, send, cookiePair, parseSetCookie } = require('./helpers')

describe('option checks', () => {
  it('throws the TypeErrors express-session throws', () => {
    assert.throws(() => session({ genid: 'x' }), { name: 'TypeError', message: 'genid option must be a function' })
    assert.throws(() => session({ secret: [] }), { name: 'TypeError', message: 'secret option array must contain one or more strings' })
    assert.throws(() => session({ secret: 's', unset: 'bogus' }), { name: 'TypeError', message: 'unset option must be "destroy" or "keep"' })
  })

  it('prints express-session\'s deprecation messages in its namespace', () => {
    const script = `require(${JSON.stringify(path.join(__dirname, '..'))})({})`
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NO_DEPRECATION: '' } })
    assert.match(run.stderr, /express-session deprecated undefined resave option; provide resave option/)
    assert.match(run.stderr, /express-session deprecated undefined saveUninitialized option; provide saveUninitialized option/)
    assert.match(run.stderr, /express-session deprecated req\.secret; provide secret option/)
    const silenced = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NO_DEPRECATION: 'express-session' } })
    assert.equal(silenced.stderr, '')
  })
})

describe('secrets', () => {
  async function cookieFrom (secret) {
    const server = await listen(appWith(session({ secret, resave: false, saveUninitialized: true, genid: () => 'fixed' }), (req, res) => res.end(req.sessionID)))
    try {
      return cookiePair(await send(server.url))
    } finally {
      await server.close()
    }
  }

  it('signs alike with a string, a Buffer and a Uint8Array of the same bytes', async () => {
    const fromString = await cookieFrom('keyboard cat')
    assert.equal(await cookieFrom(Buffer.from('keyboard cat')), fromString)
    assert.equal(await cookieFrom(new TextEncoder().encode('keyboard cat')), fromString)
  })

  it('rejects secrets of other types when the middleware is made', () => {
    assert.throws(() => session({ secret: [42] }), TypeError)
  })

  it('takes cookie-parser\'s req.secret when no secret option is given', async () => {
    const app = express()
    app.use(cookieParser('parser secret'))
    app.use(session({ resave: false, saveUninitialized: true }))
    app.use((req, res) => {
      req.session.n = (req.session.n || 0) + 1
      res.end(String(req.session.n))
    })
    const server = await listen(app)
    try {
      const first = await send(server.url)
      assert.equal(first.body, '1')
      assert.equal((await send(server.url, { headers: { cookie: cookiePair(first) } })).body, '2')
    } finally {
      await server.close()
    }
  })

  it('fails with "secret option required for sessions" without any secret', async () => {
    const server = await listen(appWith(session({ resave: false, saveUninitialized: true }), (req, res) => res.end()))
    try {
      const response = await send(server.url)
      assert.equal(response.status, 500)
      assert.equal(response.body, 'error: secret option required for sessions')
    } finally {
      await server.close()
    }
  })
})

describe('cookie options', () => {
  it('resolves sameSite "auto" and secure "auto" from a cookie function too', async () => {
    const app = express()
    app.set('trust proxy', true)
    app.use(session({ secret: 's', resave: false, saveUninitialized: true, cookie: () => ({ secure: 'auto', sameSite: 'auto' }) }))
    app.use((req, res) => res.end())
    const server = await listen(app)
    try {
      const secure = parseSetCookie((await send(server.url, { headers: { 'x-forwarded-proto': 'https' } })).setCookie[0])
      assert.equal(secure.attributes.samesite, 'None')
      assert.equal(secure.attributes.secure, true)
      const plain = parseSetCookie((await send(server.url)).setCookie[0])
      assert.equal(plain.attributes.samesite, 'Lax')
      assert.equal(plain.attributes.secure, undefined)
    } finally {
      await server.close()
    }
  })

  it('writes each response\'s own attributes when they change between responses', async () => {
    const app = express()
    app.use(session({ secret: 's', resave: false, saveUninitialized: true, cookie: { maxAge: 60000 } }))
    app.use((req, res) => {
      if (req.query.domain) req.session.cookie.domain = req.query.domain
      if (req.query.strict) req.session.cookie.sameSite = 'strict'
      res.end()
    })
    const server = await listen(app)
    try {
      const asked = ['', '?domain=example.com', '?domain=example.com', '', '?strict=1', '', '?domain=example.org&strict=1']
      for (const query of asked) {
        const { attributes } = parseSetCookie((await send(server.url + '/' + query)).setCookie[0])
        const params = new URLSearchParams(query)
        assert.equal(attributes.domain, params.get('domain') || undefined, query)
        assert.equal(attributes.samesite, params.get('strict') ? 'Strict' : undefined, query)
        assert.equal(attributes.path, '/')
        assert.equal(attributes.httponly, true)
        assert.ok(Date.parse(attributes.expires) > Date.now(), query)
      }
    } finally {
      await server.close()
    }
  })

  it('uses `key` as the legacy name of `name`', async () => {
    const server = await listen(appWith(session({ secret: 's', key: 'legacy.sid', resave: false, saveUninitialized: true }), (req, res) => res.end()))
    try {
      assert.equal(parseSetCookie((await send(server.url)).setCookie[0]).name, 'legacy.sid')
    } finally {
      await server.close()
    }
  })
})

describe('in production', () => {
  const root = JSON.stringify(path.join(__dirname, '..'))
  function warnings (code) {
    const run = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } })
    assert.equal(run.status, 0, run.stderr)
    return run.stderr
  }

  it('says what the MemoryStore is (one process, lost on restart), not that it leaks', () => {
    const stderr = warnings(`require(${root})({ secret: 's', resave: false, saveUninitialized: false })`)
    assert.match(stderr, /MemoryStore keeps sessions in this\nprocess only: they are lost when it restarts/)
    assert.doesNotMatch(stderr, /leak/)
  })

  it('warns of nothing with a shared store', () => {
    const stderr = warnings(`const s = require(${root}); s({ secret: 's', resave: false, saveUninitialized: false, store: new s.RedisStore() })`)
    assert.equal(stderr, '')
  })
})

describe('options that cannot work fail when the middleware is made', () => {
  const base = { secret: 's', resave: false, saveUninitialized: false }
  const cases = [
    [{ cookie: { maxAge: 'abc' } }, /cookie\.maxAge must be a number/],
    [{ cookie: { expires: '2030-01-01' } }, /cookie\.expires must be a Date/],
    [{ cookie: { sameSite: 'sideways' } }, /cookie\.sameSite must be/],
    [{ cookie: { priority: 'urgent' } }, /cookie\.priority must be/],
    [{ cookie: { secure: 'yes' } }, /cookie\.secure must be/],
    [{ cookie: { httpOnly: 'no' } }, /cookie\.httpOnly must be a boolean/],
    [{ cookie: 'strict' }, /cookie must be an object/],
    [{ secret: '' }, /secret option must not be empty/],
    [{ secret: ['a', ''] }, /secret option must not be empty/],
    [{ name: 'bad name' }, /name option must be a cookie name/],
    [{ resave: 'yes' }, /resave option must be a boolean/],
    [{ rolling: 1 }, /rolling option must be a boolean/],
    [{ store: {} }, /store option must be a session store \(it has no get, set, destroy, on\)/],
    [{ name: '__Host-sid' }, /__Host-\.\.\. needs cookie\.secure/],
    [{ name: '__Host-sid', cookie: { secure: true, domain: 'example.com' } }, /__Host-\.\.\. cannot have cookie\.domain/],
    [{ name: '__Host-sid', cookie: { secure: true, path: '/app' } }, /__Host-\.\.\. needs cookie\.path '\/'/],
    [{ name: '__Secure-sid', cookie: { secure: false } }, /__Secure-\.\.\. needs cookie\.secure/]
  ]
  for (const [options, message] of cases) {
    it(`${JSON.stringify(options)} is a TypeError`, () => {
      assert.throws(() => session({ ...base, ...options }), (err) => err instanceof TypeError && message.test(err.message))
    })
  }

  it('accepts what express-session accepts', () => {
    session({ ...base, name: '__Host-sid', cookie: { secure: true, path: '/' } })
    session({ ...base, name: '__Secure-sid', cookie: { secure: 'auto', sameSite: 'Strict', priority: 'High' } })
    // An invalid Date is reported when the cookie is written, as express-session does.
    session({ ...base, cookie: { expires: new Date(NaN), maxAge: null, sameSite: true } })
  })
})

describe('functions among the options that throw or return what cannot work', () => {
  const base = { secret: 's', resave: false, saveUninitialized: true }

  async function statuses (options, handler = (req, res) => res.end('ok')) {
    const server = await listen(appWith(session({ ...base, ...options }), handler))
    try {
      const first = await send(server.url)
      const second = await send(server.url)
      return [first.status + ' ' + first.body, second.status + ' ' + second.body]
    } finally {
      await server.close()
    }
  }

  it('a cookie function that throws is the request\'s error', async () => {
    assert.deepEqual(await statuses({ cookie: () => { throw new Error('no cookie for you') } }),
      ['500 error: no cookie for you', '500 error: no cookie for you'])
  })

  it('a cookie function\'s result is checked at its first use', async () => {
    const [first] = await statuses({ cookie: () => ({ maxAge: 'abc' }) })
    assert.equal(first, "500 error: the cookie function's result.maxAge must be a number of milliseconds")
  })

  it('a genid that throws is the request\'s error, in the middleware and in regenerate', async () => {
    let calls = 0
    const genid = () => { if (++calls > 1) throw new Error('no more ids'); return 'first' }
    const [first, second] = await statuses({ genid }, async (req, res, next) => {
      try {
        await req.session.regenerate()
        res.end('regenerated')
      } catch (err) {
        next(err)
      }
    })
    assert.equal(first, '500 error: no more ids')
    assert.equal(second, '500 error: no more ids')
  })
})
