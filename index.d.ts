// Types for express-session-rs. The API is express-session's.

import type { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'

declare global {
  namespace Express {
    interface Request {
      /** This request's session; see express-session. */
      session: session.Session & Partial<session.SessionData>
      /** This request's session ID. */
      sessionID: string
      /** The store used by the session middleware. */
      sessionStore: session.Store
    }
  }
}

declare function session (options?: session.SessionOptions): (req: IncomingMessage, res: ServerResponse, next: (err?: any) => void) => void

declare namespace session {
  /** Declare what your app keeps in sessions by augmenting this interface. */
  interface SessionData {
    cookie: Cookie
  }

  interface CookieOptions {
    maxAge?: number | undefined
    partitioned?: boolean | undefined
    priority?: 'low' | 'medium' | 'high' | undefined
    signed?: boolean | undefined
    expires?: Date | null | undefined
    httpOnly?: boolean | undefined
    path?: string | undefined
    domain?: string | undefined
    secure?: boolean | 'auto' | undefined
    encode?: ((val: string) => string) | undefined
    sameSite?: boolean | 'lax' | 'strict' | 'none' | 'auto' | undefined
  }

  interface SessionOptions {
    secret?: string | Buffer | NodeJS.TypedArray | Array<string | Buffer | NodeJS.TypedArray> | undefined
    genid?(req: IncomingMessage): string
    name?: string | undefined
    /** @deprecated use `name` */
    key?: string | undefined
    store?: Store | undefined
    cookie?: CookieOptions | ((req: IncomingMessage) => CookieOptions) | undefined
    rolling?: boolean | undefined
    resave?: boolean | undefined
    proxy?: boolean | undefined
    saveUninitialized?: boolean | undefined
    unset?: 'destroy' | 'keep' | undefined
  }

  class Session {
    private constructor (request: IncomingMessage, data?: Partial<SessionData>)
    id: string
    cookie: Cookie
    regenerate (callback: (err: any) => void): this
    destroy (callback: (err: any) => void): this
    reload (callback: (err: any) => void): this
    resetMaxAge (): this
    save (callback?: (err: any) => void): this
    touch (): this
  }

  class Cookie implements CookieOptions {
    constructor (options?: CookieOptions)
    originalMaxAge: number | null
    maxAge?: number | undefined
    signed?: boolean | undefined
    expires?: Date | null | undefined
    httpOnly?: boolean | undefined
    path?: string | undefined
    domain?: string | undefined
    secure?: boolean | 'auto' | undefined
    sameSite?: boolean | 'lax' | 'strict' | 'none' | 'auto' | undefined
    partitioned?: boolean | undefined
    priority?: 'low' | 'medium' | 'high' | undefined
    readonly data: CookieOptions
    serialize (name: string, value: string): string
  }

  abstract class Store extends EventEmitter {
    regenerate (req: IncomingMessage, callback: (err?: any) => any): void
    load (sid: string, callback: (err: any, session?: SessionData) => any): void
    createSession (req: IncomingMessage, session: SessionData): Session & SessionData
    abstract get (sid: string, callback: (err: any, session?: SessionData | null) => void): void
    abstract set (sid: string, session: SessionData, callback?: (err?: any) => void): void
    abstract destroy (sid: string, callback?: (err?: any) => void): void
    all? (callback: (err: any, obj?: SessionData[] | { [sid: string]: SessionData } | null) => void): void
    length? (callback: (err: any, length?: number) => void): void
    clear? (callback?: (err?: any) => void): void
    touch? (sid: string, session: SessionData, callback?: () => void): void
  }

  interface MemoryStoreOptions {
    /** The most sessions kept; the least recently written go first. */
    max?: number | undefined
    /** Milliseconds between sweeps of expired sessions (default 60000). */
    sweepInterval?: number | undefined
  }

  interface RedisStoreOptions {
    /** A single server (default `redis://127.0.0.1:6379`). */
    url?: string | undefined
    /** Node URLs of a Redis Cluster, used instead of `url`. */
    cluster?: string[] | undefined
    /** Key prefix (default `sess:`). */
    prefix?: string | undefined
    /** Seconds used when the cookie has no expiry (default 86400), or a function of the session. */
    ttl?: number | ((session: SessionData) => number) | undefined
    disableTouch?: boolean | undefined
    disableTTL?: boolean | undefined
    /** COUNT for SCAN (default 100). */
    scanCount?: number | undefined
    /** Milliseconds to wait for a connection (default 5000). */
    connectTimeout?: number | undefined
    /** Milliseconds to wait for any command (default 2000). */
    commandTimeout?: number | undefined
    /** Milliseconds between checks while Redis is away (default 1000). */
    probeInterval?: number | undefined
  }

  /** Sessions in Redis, in connect-redis's format, with the IO in Rust. */
  class RedisStore extends Store {
    constructor (options?: RedisStoreOptions)
    readonly prefix: string
    get (sid: string): Promise<SessionData | null>
    get (sid: string, callback: (err: any, session?: SessionData | null) => void): void
    set (sid: string, session: SessionData): Promise<void>
    set (sid: string, session: SessionData, callback?: (err?: any) => void): void
    touch (sid: string, session: SessionData): Promise<void>
    touch (sid: string, session: SessionData, callback?: (err?: any) => void): void
    destroy (sid: string): Promise<void>
    destroy (sid: string, callback?: (err?: any) => void): void
    clear (): Promise<void>
    clear (callback?: (err?: any) => void): void
    length (): Promise<number>
    length (callback: (err: any, length?: number) => void): void
    ids (): Promise<string[]>
    ids (callback: (err: any, ids?: string[]) => void): void
    all (): Promise<Array<SessionData & { id: string }>>
    all (callback: (err: any, sessions?: Array<SessionData & { id: string }>) => void): void
    /** Ends the connection for good. */
    close (): Promise<void>
    close (callback: (err?: any) => void): void
  }

  class MemoryStore extends Store {
    constructor (options?: MemoryStoreOptions)
    get (sid: string, callback: (err: any, session?: SessionData | null) => void): void
    set (sid: string, session: SessionData, callback?: (err?: any) => void): void
    destroy (sid: string, callback?: (err?: any) => void): void
    all (callback: (err: any, obj?: { [sid: string]: SessionData } | null) => void): void
    length (callback: (err: any, length?: number) => void): void
    clear (callback?: (err?: any) => void): void
    touch (sid: string, session: SessionData, callback?: () => void): void
  }
}

export = session
