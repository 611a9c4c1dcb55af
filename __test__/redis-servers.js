'use strict'

// Redis servers the tests start for themselves, on free loopback ports: one
// server, or a Cluster of primaries.

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function freePort () {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

async function startRedis (port, dir, extra = []) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...extra], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    if (ok) return child
    await sleep(50)
  }
  child.kill('SIGKILL')
  throw new Error('redis-server did not start on port ' + port)
}

function stopRedis (child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', resolve)
    child.kill('SIGKILL')
  })
}

/**
 * A Redis Cluster of `size` primaries: { ports, urls, stop() }. With `certs`
 * (makeCertificates()), TLS only, the cluster bus included.
 */
async function startCluster (size = 3, { certs } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esrs-cluster-'))
  const ports = []
  const nodes = []
  const stop = async () => {
    await Promise.all(nodes.map(stopRedis))
    fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < size; i++) ports.push(await freePort())
    for (const port of ports) {
      const nodeDir = path.join(dir, String(port))
      fs.mkdirSync(nodeDir)
      const cluster = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--appendonly', 'no']
      if (!certs) {
        nodes.push(await startRedis(port, nodeDir, cluster))
        continue
      }
      const child = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--dir', nodeDir, '--save', '',
        '--tls-cert-file', certs.file('server.crt'), '--tls-key-file', certs.file('server.key'),
        '--tls-ca-cert-file', certs.file('ca.crt'), '--tls-auth-clients', 'no', '--tls-cluster', 'yes', ...cluster], { stdio: 'ignore' })
      nodes.push(child)
      await waitForPort(port, child)
    }
    const tls = certs ? ['--tls', '--cacert', certs.file('ca.crt')] : []
    const create = spawnSync('redis-cli', [...tls, '--cluster', 'create', ...ports.map((p) => '127.0.0.1:' + p), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' })
    if (create.status !== 0) throw new Error('redis-cli --cluster create failed: ' + create.stdout + create.stderr)
    for (let i = 0; i < 100; i++) {
      const info = spawnSync('redis-cli', [...tls, '-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }).stdout
      if (/cluster_state:ok/.test(info)) break
      await sleep(100)
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { ports, urls: ports.map((p) => (certs ? 'rediss' : 'redis') + '://127.0.0.1:' + p), stop }
}

function openssl (dir, args) {
  const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
  if (run.status !== 0) throw new Error('openssl ' + args.join(' ') + ' failed: ' + run.stderr)
}

// A certificate signed by `ca` (a name in `dir`), for the given subjectAltName.
function issue (dir, name, ca, altNames) {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', name + '.key', '-out', name + '.csr', '-subj', '/CN=' + name])
  fs.writeFileSync(path.join(dir, name + '.ext'), altNames ? 'subjectAltName=' + altNames + '\n' : 'extendedKeyUsage=clientAuth\n')
  openssl(dir, ['x509', '-req', '-in', name + '.csr', '-CA', ca + '.crt', '-CAkey', ca + '.key', '-CAcreateserial', '-out', name + '.crt', '-days', '2', '-extfile', name + '.ext'])
}

/**
 * Test certificates made with openssl in a new folder: a CA and, signed by it,
 * `server` (localhost, 127.0.0.1), `named` (redis.test only) and `client`;
 * and a second CA, `other`, that signed nothing here. `read(name)` gives a file's text.
 */
function makeCertificates () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esrs-tls-'))
  for (const ca of ['ca', 'other']) {
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', ca + '.key', '-out', ca + '.crt', '-days', '2', '-subj', '/CN=esrs test ' + ca])
  }
  issue(dir, 'server', 'ca', 'DNS:localhost,IP:127.0.0.1')
  issue(dir, 'named', 'ca', 'DNS:redis.test')
  issue(dir, 'client', 'ca', null)
  return {
    dir,
    file: (name) => path.join(dir, name),
    read: (name) => fs.readFileSync(path.join(dir, name), 'utf8'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** redis-server with TLS only, on a free port, using `certs`' `server` (or `cert`). */
async function startTlsRedis (certs, { cert = 'server', authClients = 'no' } = {}) {
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esrs-tls-redis-'))
  const args = ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--tls-cert-file', certs.file(cert + '.crt'), '--tls-key-file', certs.file(cert + '.key'),
    '--tls-ca-cert-file', certs.file('ca.crt'), '--tls-auth-clients', authClients]
  const child = spawn('redis-server', args, { stdio: 'ignore' })
  await waitForPort(port, child)
  return { port, child, stop: async () => { await stopRedis(child); fs.rmSync(dir, { recursive: true, force: true }) } }
}

async function waitForPort (port, child) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    if (ok) return
    await sleep(50)
  }
  child.kill('SIGKILL')
  throw new Error('nothing listens on port ' + port)
}

function cli (port, ...args) {
  const run = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error('redis-cli ' + args.join(' ') + ': ' + run.stderr)
  return run.stdout.trim()
}

/**
 * A master, a replica of it and a Sentinel watching it as `name`:
 * { master, replica, sentinel (ports), url (the Sentinel's), failover(), stop() }.
 * failover() forces SENTINEL FAILOVER and resolves once the Sentinel names the
 * replica as master.
 */
async function startSentinelGroup (name = 'sessions') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esrs-sentinel-'))
  const [master, replica, sentinel] = [await freePort(), await freePort(), await freePort()]
  const children = []
  const stop = async () => {
    await Promise.all(children.map(stopRedis))
    fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const port of [master, replica]) fs.mkdirSync(path.join(dir, String(port)))
    children.push(await startRedis(master, path.join(dir, String(master))))
    children.push(await startRedis(replica, path.join(dir, String(replica)), ['--replicaof', '127.0.0.1', String(master)]))
    const conf = path.join(dir, 'sentinel.conf')
    fs.writeFileSync(conf, [
      `port ${sentinel}`, 'bind 127.0.0.1', `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${master} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 3000`
    ].join('\n') + '\n')
    const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' })
    children.push(child)
    await waitForPort(sentinel, child)
    // The failover needs a replica the Sentinel knows, in sync with its master.
    for (let i = 0; ; i++) {
      const known = cli(sentinel, 'sentinel', 'replicas', name)
      const link = cli(replica, 'info', 'replication')
      if (known.includes(String(replica)) && /master_link_status:up/.test(link)) break
      if (i === 200) throw new Error('the Sentinel never saw the replica in sync')
      await sleep(50)
    }
  } catch (err) {
    await stop()
    throw err
  }
  const masterNow = () => cli(sentinel, 'sentinel', 'get-master-addr-by-name', name).split('\n')[1]
  return {
    master,
    replica,
    sentinel,
    url: `redis://127.0.0.1:${sentinel}`,
    masterNow: () => Number(masterNow()),
    async failover () {
      cli(sentinel, 'sentinel', 'failover', name)
      for (let i = 0; i < 200; i++) {
        if (masterNow() === String(replica)) return
        await sleep(50)
      }
      throw new Error('the failover did not happen')
    },
    stop
  }
}

module.exports = { freePort, startRedis, stopRedis, startCluster, sleep, makeCertificates, startTlsRedis, startSentinelGroup, cli }
