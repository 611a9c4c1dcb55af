'use strict'

// save, reload, regenerate and destroy return a Promise when called without a
// callback (express-session's most requested feature), and behave as before
// with one.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const session = require('..')
const { listen, appWith: appOn, send, storeCall, EXPRESS_VERSIONS } = require('./helpers')

// The login, save, reload and logout flows below run on each Express version.
for (const [version, expressModule] of EXPRESS_VERSIONS) {
  const appWith = (middleware, handler) => appOn(middleware, handler, expressModule)

  function asyncApp (store, handler) {
    return appWith(session({ secret: 's', resave: false, saveUninitialized: false, store }), (req, res, next) => {
      handler(req, res).catch(next)
    })
  }

  describe(`the Promise forms of the session methods (${version})`, () => {
    it('save, reload, regenerate and destroy can be awaited', async () => {
      const store = new session.MemoryStore()
      const seen = {}
      const server = await listen(asyncApp(store, async (req, res) => {
        req.session.step = 1
        assert.ok((await req.session.save()) === undefined)
        seen.saved = (await storeCall(store, 'get', req.sessionID)).step

        req.session.step = 2
        await req.session.reload()
        seen.reloaded = req.session.step

        const oldId = req.sessionID
        await req.session.regenerate()
        seen.regenerated = req.sessionID !== oldId && (await storeCall(store, 'get', oldId)) === undefined

        req.session.step = 3
        await req.session.save()
        const id = req.sessionID
        await req.session.destroy()
        seen.destroyed = req.session === undefined && (await storeCall(store, 'get', id)) === undefined
        res.end('done')
      }))
      try {
        assert.equal((await send(server.url)).body, 'done')
        assert.deepEqual(seen, { saved: 1, reloaded: 1, regenerated: true, destroyed: true })
      } finally {
        await server.close()
      }
    })

    it('reject with the store\'s error', async () => {
      const store = new session.MemoryStore()
      store.set = (sid, sess, cb) => setImmediate(cb, new Error('store is full'))
      const server = await listen(asyncApp(store, async (req, res) => {
        req.session.n = 1
        try {
          await req.session.save()
          res.end('saved')
        } catch (err) {
          res.end('caught ' + err.message)
        }
      }))
      try {
        assert.equal((await send(server.url)).body, 'caught store is full')
      } finally {
        await server.close()
      }
    })

    it('reload rejects when the session is gone', async () => {
      const store = new session.MemoryStore()
      const server = await listen(asyncApp(store, async (req, res) => {
        await assert.rejects(req.session.reload(), /failed to load session/)
        res.end('ok')
      }))
      try {
        assert.equal((await send(server.url)).body, 'ok')
      } finally {
        await server.close()
      }
    })

    it('an ignored failing Promise is not an unhandled rejection', async () => {
      const unhandled = []
      const onUnhandled = (reason) => unhandled.push(reason)
      process.on('unhandledRejection', onUnhandled)
      const store = new session.MemoryStore()
      store.set = (sid, sess, cb) => setImmediate(cb, new Error('ignored'))
      const server = await listen(appWith(session({ secret: 's', resave: false, saveUninitialized: false, store }), (req, res) => {
        req.session.n = 1
        req.session.save()
        res.end('fire and forget')
      }))
      try {
        assert.equal((await send(server.url)).body, 'fire and forget')
        await new Promise((resolve) => setTimeout(resolve, 50))
        assert.deepEqual(unhandled, [])
      } finally {
        process.off('unhandledRejection', onUnhandled)
        await server.close()
      }
    })

    it('with a callback, they return the session for chaining', async () => {
      const store = new session.MemoryStore()
      const server = await listen(appWith(session({ secret: 's', resave: false, saveUninitialized: false, store }), (req, res) => {
        const returned = req.session.save(() => {
          res.end(String(returned === req.session))
        })
      }))
      try {
        assert.equal((await send(server.url)).body, 'true')
      } finally {
        await server.close()
      }
    })
  })
}
