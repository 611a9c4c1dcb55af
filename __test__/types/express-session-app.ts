// An app written against @types/express-session, unchanged: here the module
// name 'express-session' resolves to this package's types.
import express from 'express'
import session, { Cookie, CookieOptions, MemoryStore, Session, SessionData, SessionOptions, Store } from 'express-session'

declare module 'express-session' {
  interface SessionData {
    views: number
    user: { name: string }
  }
}

class ObjectStore extends Store {
  private readonly sessions: Record<string, string> = {}

  get (sid: string, callback: (err: any, session?: SessionData | null) => void): void {
    const text = this.sessions[sid]
    callback(null, text ? JSON.parse(text) : null)
  }

  set (sid: string, sess: SessionData, callback?: (err?: any) => void): void {
    this.sessions[sid] = JSON.stringify(sess)
    callback?.()
  }

  destroy (sid: string, callback?: (err?: any) => void): void {
    delete this.sessions[sid]
    callback?.()
  }
}

const cookie: CookieOptions = { maxAge: 60000, sameSite: 'lax', secure: 'auto', priority: 'high', partitioned: false }
const options: SessionOptions = {
  secret: ['new', 'old'],
  resave: false,
  saveUninitialized: false,
  store: process.env.MEMORY ? new MemoryStore() : new ObjectStore(),
  cookie,
  genid: (req) => req.path + Date.now(),
  unset: 'destroy'
}

const app = express()
app.use(session(options))
app.use(session({ secret: 'x', cookie: (req) => ({ secure: req.secure }) }))

app.get('/', (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1
  const name: string | undefined = req.session.user?.name
  const id: string = req.sessionID
  const sameId: string = req.session.id
  const c: Cookie = req.session.cookie
  const expires: Date | null | undefined = c.expires
  req.sessionStore.get(id, (err, stored) => {
    if (err) throw err
    const views: number | undefined = stored?.views
    res.json({ name, sameId, expires, views })
  })
  // @ts-expect-error views is a number
  req.session.views = 'many'
})

app.get('/logout', (req, res, next) => {
  req.session.regenerate((err) => {
    if (err) return next(err)
    req.session.save((err) => (err ? next(err) : res.redirect('/')))
  })
})

// What apps written against @types/express-session do with the cookie type.
export const plainCookie: SessionData['cookie'] = { expires: null, originalMaxAge: null }

// A store whose members are arrow functions, as many published stores write them.
export class ArrowStore extends Store {
  private readonly map = new Map<string, SessionData>()
  get = (sid: string, callback: (err: any, session?: SessionData | null) => void): void => callback(null, this.map.get(sid) ?? null)
  set = (sid: string, sess: SessionData, callback?: (err?: any) => void): void => { this.map.set(sid, sess); callback?.() }
  destroy = (sid: string, callback?: (err?: any) => void): void => { this.map.delete(sid); callback?.() }
  touch = (sid: string, sess: SessionData, callback?: () => void): void => callback?.()
}
app.use(session({ secret: 'y', store: new ArrowStore(), resave: false, saveUninitialized: false }))

export const typed: Session = {} as Session
export default app
