'use strict'

// The RedisStore's options, checked when the store is made: anything it would
// otherwise find out on the first request (a URL that does not parse, TLS
// material that does not read, options it does not know) is a TypeError here.

const defaults = {
  prefix: 'sess:',
  ttl: 86400,
  scanCount: 100,
  connectTimeout: 5000,
  commandTimeout: 2000,
  probeInterval: 1000
}

const known = new Set([
  'url', 'cluster', 'sentinel', 'username', 'password', 'tls',
  'prefix', 'ttl', 'disableTouch', 'disableTTL', 'scanCount',
  'connectTimeout', 'commandTimeout', 'probeInterval'
])

// connect-redis's (and its clients') options that do not apply here, and why.
const elsewhere = {
  client: 'the native RedisStore makes its own connection: give url, cluster or sentinel instead of a client',
  serializer: 'the native RedisStore stores JSON text (connect-redis\'s default format); a serializer is not supported',
  host: 'give the server as url: \'redis://host:port\'',
  port: 'give the server as url: \'redis://host:port\'',
  db: 'give the database in the url: \'redis://host:port/db\'',
  socket: 'give the server as url, and TLS as the tls option',
  database: 'give the database in the url: \'redis://host:port/db\'',
  logErrors: 'errors reach the request\'s next(err); the store emits disconnect and connect'
}

const tlsKnown = new Set(['ca', 'cert', 'key', 'servername', 'rejectUnauthorized'])

/**
 * The options as the store keeps them, and as the native side takes them
 * (`native`). Throws a TypeError naming what is wrong.
 */
function readOptions (options) {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError('RedisStore options must be an object')
  }
  const opts = { ...defaults, ...dropUndefined(options || {}) }
  for (const name of Object.keys(opts)) {
    if (known.has(name)) continue
    if (name in elsewhere) throw new TypeError(`RedisStore option ${name} does not apply: ${elsewhere[name]}`)
    throw new TypeError(`RedisStore has no option ${name}`)
  }

  const targets = ['url', 'cluster', 'sentinel'].filter((name) => opts[name] !== undefined)
  if (targets.length > 1) {
    throw new TypeError(`RedisStore takes one of url, cluster and sentinel, not ${targets.join(' and ')}`)
  }
  if (opts.url !== undefined && typeof opts.url !== 'string') {
    throw new TypeError('url option must be a string such as redis://host:6379')
  }
  if (opts.cluster !== undefined && !isNonEmptyStrings(opts.cluster)) {
    throw new TypeError('cluster option must be a non-empty array of node URLs')
  }
  for (const name of ['username', 'password']) {
    if (opts[name] !== undefined && typeof opts[name] !== 'string') {
      throw new TypeError(name + ' option must be a string')
    }
  }
  for (const name of ['scanCount', 'connectTimeout', 'commandTimeout', 'probeInterval']) {
    const value = opts[name]
    if (!(Number.isInteger(value) && value > 0 && value <= 0x7fffffff)) {
      throw new TypeError(name + ' option must be a positive integer')
    }
  }
  if (typeof opts.ttl !== 'function' && !Number.isFinite(opts.ttl)) {
    throw new TypeError('ttl option must be a number of seconds or a function')
  }

  const native = {
    url: opts.url,
    cluster: opts.cluster,
    sentinel: opts.sentinel === undefined ? undefined : sentinelOf(opts.sentinel),
    username: opts.username,
    password: opts.password,
    tls: tlsOf(opts.tls, 'tls'),
    prefix: opts.prefix == null ? defaults.prefix : String(opts.prefix),
    scanCount: opts.scanCount,
    connectTimeout: opts.connectTimeout,
    commandTimeout: opts.commandTimeout
  }
  return { opts, native }
}

function sentinelOf (sentinel) {
  if (sentinel === null || typeof sentinel !== 'object') {
    throw new TypeError('sentinel option must be { nodes, name, username?, password?, tls? }')
  }
  for (const name of Object.keys(sentinel)) {
    if (!['nodes', 'name', 'username', 'password', 'tls'].includes(name)) {
      throw new TypeError(`sentinel option has no ${name}`)
    }
  }
  if (!isNonEmptyStrings(sentinel.nodes)) {
    throw new TypeError('sentinel.nodes must be a non-empty array of Sentinel URLs')
  }
  if (typeof sentinel.name !== 'string' || sentinel.name === '') {
    throw new TypeError('sentinel.name must name the master the Sentinels watch')
  }
  for (const name of ['username', 'password']) {
    if (sentinel[name] !== undefined && typeof sentinel[name] !== 'string') {
      throw new TypeError(`sentinel.${name} must be a string`)
    }
  }
  return {
    nodes: sentinel.nodes,
    name: sentinel.name,
    username: sentinel.username,
    password: sentinel.password,
    tls: tlsOf(sentinel.tls, 'sentinel.tls')
  }
}

// Node's TLS option names; PEM given as strings or Buffers. `true` is TLS with
// the default trust store.
function tlsOf (tls, where) {
  if (tls === undefined || tls === false) return undefined
  if (tls === true) return {}
  if (tls === null || typeof tls !== 'object') {
    throw new TypeError(`${where} option must be an object of Node's TLS options, or true`)
  }
  for (const name of Object.keys(tls)) {
    if (!tlsKnown.has(name) && tls[name] !== undefined) {
      throw new TypeError(`${where}.${name} is not supported (supported: ${[...tlsKnown].join(', ')})`)
    }
  }
  const pem = (value, name) => {
    if (value === undefined) return undefined
    if (typeof value === 'string') return value
    if (Buffer.isBuffer(value)) return value.toString('utf8')
    throw new TypeError(`${where}.${name} must be PEM text, as a string or a Buffer`)
  }
  if (tls.servername !== undefined && typeof tls.servername !== 'string') {
    throw new TypeError(`${where}.servername must be a string`)
  }
  if (tls.rejectUnauthorized !== undefined && typeof tls.rejectUnauthorized !== 'boolean') {
    throw new TypeError(`${where}.rejectUnauthorized must be a boolean`)
  }
  const ca = tls.ca === undefined ? undefined : [].concat(tls.ca).map((value) => pem(value, 'ca'))
  return {
    ca,
    cert: pem(tls.cert, 'cert'),
    key: pem(tls.key, 'key'),
    servername: tls.servername,
    rejectUnauthorized: tls.rejectUnauthorized
  }
}

function isNonEmptyStrings (value) {
  return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')
}

function dropUndefined (object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined))
}

module.exports = { readOptions }
