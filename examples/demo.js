'use strict'

// The demo: a page-view counter kept in the session, per path, on Express.
//   npm run demo            then open http://localhost:3000/ (and /foo, /bar)
// PORT picks another port.

const express = require('express')
const session = require('..')

const app = express()

app.use(session({
  secret: process.env.SESSION_SECRET || 'demo secret, change me',
  resave: false,
  saveUninitialized: false,
  cookie: { maxAge: 30 * 60 * 1000, sameSite: 'lax' }
}))

app.use((req, res) => {
  const views = req.session.views || (req.session.views = {})
  views[req.path] = (views[req.path] || 0) + 1

  res.type('text').send(
    `You have viewed ${req.path} ${views[req.path]} time(s) in this session.\n` +
    `Session ID: ${req.sessionID}\n` +
    `All paths: ${JSON.stringify(views)}\n`
  )
})

const port = Number(process.env.PORT) || 3000
app.listen(port, () => {
  console.log(`express-session-rs demo listening on http://localhost:${port}/`)
})
