'use strict'

// The scenarios every part of the suite shares: what the visitor sends, how the
// middleware is configured, what the handler does and what a response must look
// like. One definition, so the HTTP and in-process numbers measure the same work.

const SECRET = 'bench secret'
const MAX_AGE = 60 * 60 * 1000

// The session a returning visitor already has (made by one seeding request).
function seedSession (session) {
  session.user = { id: 42, name: 'bob', roles: ['reader', 'writer'] }
  session.count = 0
}

// Route handlers' bodies; each returns the response body.
const handlers = {
  none () {
    return 'ok'
  },
  read (req) {
    const name = req.session.user.name
    // A missing or wrong session must fail the run, not be measured as fast.
    if (name !== 'bob') throw new Error(`expected the seeded session, got user ${name}`)
    return name
  },
  write (req) {
    req.session.count++
    return 'ok'
  }
}

// `setCookie`: whether a measured response carries Set-Cookie (checked before
// measuring, so both implementations are seen doing the same thing).
// `parts`: which benchmarks run it (the in-process one has no ceiling and no Redis).
const scenarios = [
  {
    name: 'no-session',
    session: false,
    handler: 'none',
    setCookie: false,
    parts: ['http']
  },
  {
    name: 'new-not-saved',
    session: true,
    store: 'memory',
    options: { saveUninitialized: false },
    returning: false,
    handler: 'none',
    setCookie: false,
    parts: ['http', 'inprocess']
  },
  {
    name: 'new-saved',
    session: true,
    store: 'memory',
    options: { saveUninitialized: true },
    returning: false,
    handler: 'none',
    setCookie: true,
    parts: ['http', 'inprocess']
  },
  {
    name: 'read-only',
    session: true,
    store: 'memory',
    returning: true,
    handler: 'read',
    setCookie: false,
    parts: ['http', 'inprocess']
  },
  {
    name: 'writing',
    session: true,
    store: 'memory',
    returning: true,
    handler: 'write',
    setCookie: true,
    parts: ['http', 'inprocess']
  },
  {
    name: 'rolling',
    session: true,
    store: 'memory',
    options: { rolling: true },
    returning: true,
    handler: 'read',
    setCookie: true,
    parts: ['http', 'inprocess']
  },
  {
    name: 'redis-read',
    session: true,
    store: 'redis',
    returning: true,
    handler: 'read',
    setCookie: false,
    parts: ['http']
  },
  {
    // touchAfter is express-session-rs's alone: express-session ignores it, so
    // this compares its read-only visits without and ours with it.
    name: 'redis-read-touchafter',
    session: true,
    store: 'redis',
    options: { touchAfter: 10 * 60 * 1000 },
    returning: true,
    handler: 'read',
    setCookie: false,
    parts: ['http']
  },
  {
    name: 'redis-write',
    session: true,
    store: 'redis',
    returning: true,
    handler: 'write',
    setCookie: true,
    parts: ['http']
  }
]

// What ours's conditional saves cost: the write scenarios again with
// lastWriteWins, ours's unconditional whole-session write (express-session
// ignores the option). Run only when named in BENCH_SCENARIOS.
for (const name of ['writing', 'redis-write']) {
  const base = scenarios.find((s) => s.name === name)
  scenarios.push({
    ...base,
    name: name + '-lww',
    options: { ...base.options, lastWriteWins: true },
    parts: ['http'],
    onlyWhenNamed: true
  })
}

// The Redis scenarios again with 4 connections instead of BENCH_CONNECTIONS:
// each event-loop turn then carries about one command, so nothing is batched
// and every per-command cost shows (a moderately loaded server's case).
for (const name of ['redis-read', 'redis-write']) {
  const base = scenarios.find((s) => s.name === name)
  scenarios.push({ ...base, name: name + '-4c', connections: 4 })
}

/** The middleware options for a scenario, the same for both implementations. */
function sessionOptions (scenario, store) {
  const options = scenario.options || {}
  return {
    secret: SECRET,
    resave: false,
    saveUninitialized: Boolean(options.saveUninitialized),
    rolling: Boolean(options.rolling),
    ...(options.touchAfter !== undefined ? { touchAfter: options.touchAfter } : {}),
    ...(options.lastWriteWins ? { lastWriteWins: true } : {}),
    cookie: { maxAge: MAX_AGE },
    store
  }
}

/**
 * The scenarios of one part, optionally narrowed by BENCH_SCENARIOS (a comma
 * separated list of names); `always` names scenarios kept regardless.
 */
function scenariosFor (part, filter, always = []) {
  const wanted = filter ? filter.split(',').map((name) => name.trim()).filter(Boolean) : null
  if (wanted) {
    const unknown = wanted.filter((name) => !scenarios.some((s) => s.name === name))
    if (unknown.length) throw new Error(`unknown scenario(s) in BENCH_SCENARIOS: ${unknown.join(', ')}`)
  }
  return scenarios.filter((s) => s.parts.includes(part) &&
    (wanted ? wanted.includes(s.name) || always.includes(s.name) : !s.onlyWhenNamed))
}

function scenarioByName (name) {
  const scenario = scenarios.find((s) => s.name === name)
  if (!scenario) throw new Error(`unknown scenario ${name}`)
  return scenario
}

module.exports = {
  SECRET,
  MAX_AGE,
  scenarios,
  handlers,
  seedSession,
  sessionOptions,
  scenariosFor,
  scenarioByName
}
