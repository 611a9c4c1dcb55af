'use strict'

// The same requests go through express-session and through express-session-rs,
// each with its own MemoryStore and the same deterministic IDs; status, body,
// every Set-Cookie attribute and what the store holds must match.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const ours = require('..')
const theirs = require('express-session')
const { listen, appWith, send, sendRaw, parseSetCookie, EXPRESS_VERSIONS } = require('./helpers')

// What the app does, chosen by the path of each request.
function handler (req, res) {
  const s = req.session
  const reply = () => res.json({
    sid: req.sessionID,
    keys: s ? Object.keys(s).sort() : null,
    n: s ? s.n : null
  })
  switch (req.path) {
    case '/write': s.n = (s.n || 0) + 1; return reply()
    case '/same': s.n = s.n; return reply() // eslint-disable-line no-self-assign
    case '/nested': s.user = s.user || {}; s.user.visits = (s.user.visits || 0) + 1; return reply()
    case '/read-nested': return res.json({ visits: s.user ? s.user.visits : null })
    case '/delete': delete s.n; return reply()
    case '/regenerate': return s.regenerate((err) => { if (err) throw err; req.session.n = 100; reply() })
    case '/destroy': return s.destroy(() => res.json({ destroyed: true }))
    case '/null': req.session = null; return res.json({ nulled: true })
    case '/save': s.n = 7; return s.save(() => reply())
    case '/reload': s.n = 99; return s.reload(() => reply())
    case '/maxage': s.cookie.maxAge = 5000; return reply()
    case '/expires-null': s.cookie.expires = null; s.n = 1; return reply()
    case '/write-head': res.writeHead(200, { 'Content-Type': 'text/plain' }); s.n = 5; return res.end('head first')
    default: return reply()
  }
}

function normalizeSession (sess) {
  const copy = JSON.parse(JSON.stringify(sess))
  if (copy.cookie && copy.cookie.expires) copy.cookie.expires = 'EXPIRES'
  // originalMaxAge is measured against the clock when a cookie's expiry is set
  // (in both implementations), so it may be off by the milliseconds a request took.
  if (copy.cookie && typeof copy.cookie.originalMaxAge === 'number') {
    copy.cookie.originalMaxAge = { measured: Math.round(copy.cookie.originalMaxAge / 5000) }
  }
  return copy
}

function allSessions (store) {
  return new Promise((resolve, reject) => store.all((err, all) => {
    if (err) return reject(err)
    const out = {}
    for (const sid of Object.keys(all || {}).sort()) out[sid] = normalizeSession(all[sid])
    resolve(out)
  }))
}

async function startPair (options, expressModule) {
  const apps = []
  for (const impl of [theirs, ours]) {
    let counter = 0
    const store = new impl.MemoryStore()
    const opts = {
      secret: 'keyboard cat',
      genid: () => 'sid' + (++counter),
      store,
      ...options
    }
    const server = await listen(appWith(impl(opts), handler, expressModule))
    apps.push({ server, store })
  }
  return apps
}

function compareSetCookie (expected, actual, step) {
  assert.equal(actual.length, expected.length, `${step}: number of Set-Cookie headers`)
  for (let i = 0; i < expected.length; i++) {
    const e = parseSetCookie(expected[i])
    const a = parseSetCookie(actual[i])
    assert.equal(a.name, e.name, `${step}: cookie name`)
    assert.equal(a.value, e.value, `${step}: cookie value`)
    assert.deepEqual(Object.keys(a.attributes), Object.keys(e.attributes), `${step}: attribute names and order`)
    for (const key of Object.keys(e.attributes)) {
      if (key === 'expires') {
        const drift = Math.abs(Date.parse(a.attributes.expires) - Date.parse(e.attributes.expires))
        assert.ok(drift <= 2000, `${step}: Expires ${a.attributes.expires} vs ${e.attributes.expires}`)
      } else {
        assert.equal(a.attributes[key], e.attributes[key], `${step}: attribute ${key}`)
      }
    }
  }
}

// Each step: [path, where its Cookie header comes from, extra headers].
// 'last' sends the cookie of the latest response that set one.
async function runScenarioOn (expressModule, options, steps) {
  const [reference, candidate] = await startPair(options, expressModule)
  try {
    const jars = [undefined, undefined]
    for (const [index, step] of steps.entries()) {
      const [path, cookieFrom = 'last', extra = {}] = step
      const label = `step ${index} ${path}`
      const responses = []
      for (const [i, app] of [reference, candidate].entries()) {
        const headers = { ...extra }
        const cookie = typeof cookieFrom === 'function' ? cookieFrom(jars[i]) : cookieFrom === 'last' ? jars[i] : cookieFrom
        if (cookie) headers.cookie = cookie
        const response = await send(app.server.url + path, { headers })
        if (response.setCookie[0]) jars[i] = response.setCookie[0].split(';')[0]
        responses.push(response)
      }
      const [expected, actual] = responses
      assert.equal(actual.status, expected.status, `${label}: status`)
      assert.equal(actual.body, expected.body, `${label}: body`)
      compareSetCookie(expected.setCookie, actual.setCookie, label)
      assert.deepEqual(await allSessions(candidate.store), await allSessions(reference.store), `${label}: store contents`)
    }
  } finally {
    await reference.server.close()
    await candidate.server.close()
  }
}

const visit = ['/write', '/', '/write', '/same', '/nested', '/read-nested', '/nested', '/delete', '/']

const optionSets = {
  defaults: {},
  'resave false, saveUninitialized false': { resave: false, saveUninitialized: false },
  'resave false, saveUninitialized true': { resave: false, saveUninitialized: true },
  'resave true, saveUninitialized false': { resave: true, saveUninitialized: false },
  'rolling with maxAge': { rolling: true, resave: false, saveUninitialized: false, cookie: { maxAge: 60000 } },
  'maxAge, resave false': { resave: false, saveUninitialized: true, cookie: { maxAge: 60000 } },
  'every cookie attribute': {
    resave: false,
    saveUninitialized: true,
    name: 'app.sid',
    cookie: { maxAge: 3600000, domain: 'example.com', path: '/', httpOnly: false, sameSite: 'strict', priority: 'high', partitioned: true }
  },
  'sameSite true and lax': { resave: false, saveUninitialized: true, cookie: { sameSite: true } },
  'sameSite none': { resave: false, saveUninitialized: true, cookie: { sameSite: 'None', priority: 'LOW' } },
  'absolute expires': { resave: false, saveUninitialized: true, cookie: { expires: new Date(Date.now() + 86400000) } },
  'secret rotation': { secret: ['new secret', 'keyboard cat'], resave: false, saveUninitialized: false },
  'Buffer secret': { secret: Buffer.from('keyboard cat'), resave: false, saveUninitialized: false },
  'unset destroy': { unset: 'destroy', resave: false, saveUninitialized: false }
}

for (const [version, expressModule] of EXPRESS_VERSIONS) {
  describe(`the same requests through express-session and express-session-rs (${version})`, () => {
    const runScenario = (options, steps) => runScenarioOn(expressModule, options, steps)

    for (const [label, options] of Object.entries(optionSets)) {
      it(`matches on a visit with ${label}`, () => runScenario(options, visit.map((path) => [path])))
    }

    it('matches on regenerate, save, reload, destroy and unset', async () => {
      for (const options of [{ resave: false, saveUninitialized: false }, { unset: 'destroy', resave: true, saveUninitialized: true }]) {
        await runScenario(options, [
          ['/write'], ['/regenerate'], ['/'], ['/save'], ['/reload'], ['/maxage'], ['/expires-null'],
          ['/write-head'], ['/destroy'], ['/'], ['/write'], ['/null'], ['/write']
        ])
      }
    })

    it('matches on new visitors that only read', () =>
      runScenario({ resave: false, saveUninitialized: false, cookie: { maxAge: 1000 } }, [['/', null], ['/', null], ['/write', null]]))

    it('matches on secure and sameSite "auto" behind a trusted proxy', async () => {
      const options = { proxy: true, resave: false, saveUninitialized: true, cookie: { secure: 'auto', sameSite: 'auto' } }
      await runScenario(options, [
        ['/write', null, { 'x-forwarded-proto': 'https' }],
        ['/write', 'last', { 'x-forwarded-proto': 'https' }],
        ['/write', null, { 'x-forwarded-proto': 'http' }],
        ['/write', null, { 'x-forwarded-proto': 'https, http' }]
      ])
    })

    it('matches when secure cookies meet plain http', () =>
      runScenario({ resave: false, saveUninitialized: true, cookie: { secure: true } }, [['/write', null]]))

    it('matches on cookie options given as a function of the request', () =>
      runScenario({
        resave: false,
        saveUninitialized: true,
        cookie: (req) => ({ maxAge: req.path === '/write' ? 10000 : 20000, sameSite: 'lax' })
      }, [['/write', null], ['/', null]]))

    // Whether a request gets a session at all depends on its URL's path and the
    // cookie's path; request targets Express would not route, so no Express here.
    it('matches on which request targets get a session, for the cookie paths / and /admin', async () => {
      const targets = ['/', '/admin', '/admin/x?y=1', '/other', '*', '//admin', 'http://example.com/admin/x']
      for (const cookiePath of ['/', '/admin']) {
        const answers = []
        for (const impl of [theirs, ours]) {
          const middleware = impl({ secret: 's', resave: false, saveUninitialized: false, cookie: { path: cookiePath } })
          const server = await listen((req, res) => {
            middleware(req, res, (err) => res.end(err ? 'error' : String(Boolean(req.session))))
          })
          try {
            const seen = []
            for (const path of targets) seen.push(`${path} ${(await sendRaw(server.url, { path, cookie: 'a=b' })).body}`)
            answers.push(seen)
          } finally {
            await server.close()
          }
        }
        assert.ok(answers[0].some((line) => line.endsWith('false')) && answers[0].some((line) => line.endsWith('true')))
        assert.deepEqual(answers[1], answers[0], `cookie path ${cookiePath}`)
      }
    })

    it('matches on forged, unsigned, repeated and malformed cookies', async () => {
      const tamper = (jar) => jar && jar.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))
      await runScenario({ resave: false, saveUninitialized: false }, [
        ['/write'],
        ['/write', tamper],
        ['/write', (jar) => jar && jar.replace('s%3A', '')],
        ['/write', (jar) => jar && `${jar}; ${jar.replace(/=.*/, '=junk')}`],
        ['/write', (jar) => jar && `junk=1; ${jar.replace(/=.*/, '=')}`],
        ['/write', (jar) => jar && `${jar.replace(/=.*/, '')}="${jar.split('=')[1]}"`],
        ['/write', () => 'connect.sid=%E0%A4%A; other=%'],
        ['/write', () => 'connect.sid=s%3A' + 'x'.repeat(5000)],
        ['/write', () => ';;;=;==; connect.sid'],
        ['/write']
      ])
    })
  })
}
