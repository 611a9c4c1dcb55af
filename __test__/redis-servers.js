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

/** A Redis Cluster of `size` primaries: { ports, urls, stop() }. */
async function startCluster (size = 3) {
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
      nodes.push(await startRedis(port, nodeDir, ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--appendonly', 'no']))
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => '127.0.0.1:' + p), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' })
    if (create.status !== 0) throw new Error('redis-cli --cluster create failed: ' + create.stdout + create.stderr)
    for (let i = 0; i < 100; i++) {
      const info = spawnSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }).stdout
      if (/cluster_state:ok/.test(info)) break
      await sleep(100)
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { ports, urls: ports.map((p) => 'redis://127.0.0.1:' + p), stop }
}

module.exports = { freePort, startRedis, stopRedis, startCluster, sleep }
