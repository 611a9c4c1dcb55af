// Types for express-session-rs. The API is express-session's, so an app typed
// against @types/express-session compiles unchanged with this package under
// either name; the additions (RedisStore, MemoryStore options, the Promise forms
// of the session methods) are typed here too.

import express = require('express')
import { CipherKey } from 'crypto'
import { EventEmitter } from 'events'

declare global {
  namespace Express {
    type SessionStore = session.Store & { generate: (req: Request) => void }

    interface Request {
      /** This request's session (express-session's `req.session`). */
      session: session.Session & Partial<session.SessionData>
      /** This request's session ID. */
      sessionID: string
      /** The store the session middleware uses. */
      sessionStore: SessionStore
    }
  }
}

export = session

/** Creates the session middleware; the options are express-session's. */
declare function session (options?: session.SessionOptions): session.SessionMiddleware

declare namespace session {
  interface SessionOptions {
    /** Signs the session ID cookie; an array rotates secrets (the first signs, all verify). */
    secret: CipherKey | CipherKey[]
    /** Makes a new session ID (default: 24 random bytes, base64url). */
    genid?(req: express.Request): string
    /** Name of the session ID cookie (default `connect.sid`). */
    name?: string | undefined
    /** @deprecated the old name of `name` */
    key?: string | undefined
    /** Where sessions live (default: the native MemoryStore). */
    store?: Store | undefined
    cookie?: CookieOptions | ((req: express.Request) => CookieOptions) | undefined
    rolling?: boolean | undefined
    resave?: boolean | undefined
    proxy?: boolean | undefined
    saveUninitialized?: boolean | undefined
    unset?: 'destroy' | 'keep' | undefined
    /** Not in express-session: ms a JS store may take to answer (default 30000, 0 for no limit). */
    storeTimeout?: number | undefined
    /**
     * Not in express-session: `true` writes the whole session back at the end of each
     * request, as express-session does, instead of the native stores' conditional,
     * merging save.
     */
    lastWriteWins?: boolean | undefined
    /**
     * Not in express-session: ms after a store write or touch within which a returning
     * visitor's unmodified session is not touched in the store again. Must be smaller
     * than `cookie.maxAge`.
     */
    touchAfter?: number | undefined
    /** Not in express-session: ms after its creation at which a session ends, however active. */
    absoluteTimeout?: number | undefined
    /**
     * Not in express-session: the owner of a session (a user ID, say), for the native
     * stores' `sessionsOf` and `destroySessionsOf`. Needs a native store.
     */
    userOf?: ((session: SessionData) => string | number | undefined) | undefined
  }

  /** Store call times in ms since the middleware was made. */
  interface StoreLatency {
    count: number
    p50: number
    p99: number
    max: number
  }

  /** `session(options).metrics()`: counters since the middleware was made. */
  interface SessionMetrics {
    created: number
    loaded: number
    notFound: number
    saved: number
    touched: number
    touchSkipped: number
    destroyed: number
    regenerated: number
    invalidSignature: number
    absoluteExpired: number
    conflicts: number
    merged: number
    notWrittenBack: number
    storeErrors: number
    storeTimeouts: number
    storeLatency: { get: StoreLatency, set: StoreLatency, touch: StoreLatency, destroy: StoreLatency }
  }

  interface SessionMiddleware extends express.RequestHandler {
    metrics (): SessionMetrics
  }

  /** A session of one owner (`userOf`), as `sessionsOf` lists them. */
  interface OwnedSession {
    id: string
    session: SessionData
  }

  class Session {
    private constructor (request: Express.Request, data: SessionData)
    id: string
    cookie: Cookie
    /**
     * Destroys this session and gives the request a new one with a new ID; with
     * `{ keep: true }` the new one keeps the data.
     */
    regenerate (): Promise<void>
    regenerate (callback: (err: any) => void): this
    regenerate (options: { keep?: boolean }): Promise<void>
    regenerate (options: { keep?: boolean }, callback: (err: any) => void): this
    /** Removes the session from the request and from the store. */
    destroy (): Promise<void>
    destroy (callback: (err: any) => void): this
    /** Replaces `req.session` with what the store holds now. */
    reload (): Promise<void>
    reload (callback: (err: any) => void): this
    resetMaxAge (): this
    /** Writes the session to the store now. */
    save (): Promise<void>
    save (callback: (err: any) => void): this
    touch (): this
  }

  /** Augment this interface to type what your app keeps in `req.session`. */
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
    // Optional in the type, as @types/express-session leaves them out: a plain
    // `{ originalMaxAge, expires }` stays assignable to SessionData['cookie'].
    readonly data?: CookieOptions & { originalMaxAge: number | null }
    serialize? (name: string, value: string): string
    toJSON? (): CookieOptions & { originalMaxAge: number | null }
  }

  abstract class Store extends EventEmitter {
    regenerate (req: express.Request, callback: (err?: any) => any): void
    load (sid: string, callback: (err: any, session?: SessionData) => any): void
    createSession (req: express.Request, session: SessionData): Session & SessionData
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

  /** The default store: native, expiring sessions by itself, optionally bounded. */
  class MemoryStore extends Store {
    constructor (options?: MemoryStoreOptions)
    get (sid: string, callback: (err: any, session?: SessionData | null) => void): void
    set (sid: string, session: SessionData, callback?: (err?: any) => void): void
    destroy (sid: string, callback?: (err?: any) => void): void
    all (callback: (err: any, obj?: { [sid: string]: SessionData } | null) => void): void
    length (callback: (err: any, length?: number) => void): void
    clear (callback?: (err?: any) => void): void
    touch (sid: string, session: SessionData, callback?: () => void): void
    /** The live sessions of `owner` (see the `userOf` option). */
    sessionsOf (owner: string | number): Promise<OwnedSession[]>
    sessionsOf (owner: string | number, callback: (err: any, sessions?: OwnedSession[]) => void): void
    /** Destroys every session of `owner` but `options.except`; resolves to how many. */
    destroySessionsOf (owner: string | number, options?: { except?: string }): Promise<number>
    destroySessionsOf (owner: string | number, options: { except?: string } | undefined, callback: (err: any, count?: number) => void): void
  }

  /** Node's TLS option names; PEM as text or Buffers. */
  interface RedisTlsOptions {
    /** Trusted CAs instead of Mozilla's roots. */
    ca?: string | Buffer | Array<string | Buffer> | undefined
    /** Client certificate and key, for servers that ask for one. */
    cert?: string | Buffer | undefined
    key?: string | Buffer | undefined
    /** The name to check the certificate against, when not the URL's host. */
    servername?: string | undefined
    /** `false` takes any certificate (default true). */
    rejectUnauthorized?: boolean | undefined
  }

  interface RedisSentinelOptions {
    /** Sentinel URLs, e.g. `redis://10.0.0.1:26379`. */
    nodes: string[]
    /** The master's name in the Sentinels' configuration. */
    name: string
    /** The Sentinels' own credentials and TLS (the master's are the store's). */
    username?: string | undefined
    password?: string | undefined
    tls?: RedisTlsOptions | boolean | undefined
  }

  interface RedisStoreOptions {
    /** One server: `redis://`, `rediss://` or `unix://` (default `redis://127.0.0.1:6379`). */
    url?: string | undefined
    /** Node URLs of a Redis Cluster, used instead of `url`. */
    cluster?: string[] | undefined
    /** Sentinels that name the master, used instead of `url`. */
    sentinel?: RedisSentinelOptions | undefined
    /** ACL user and password; win over those in a URL. */
    username?: string | undefined
    password?: string | undefined
    /** TLS, with Node's option names; `true` for the default trust. */
    tls?: RedisTlsOptions | boolean | undefined
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

  /**
   * Sessions in Redis in connect-redis's format, with the IO in Rust. Each method
   * takes a callback, or returns a Promise when called without one.
   */
  class RedisStore extends Store {
    constructor (options?: RedisStoreOptions)
    readonly prefix: string
    get (sid: string, callback: (err: any, session?: SessionData | null) => void): void
    get (sid: string): Promise<SessionData | null>
    set (sid: string, session: SessionData, callback?: (err?: any) => void): void
    set (sid: string, session: SessionData): Promise<void>
    touch (sid: string, session: SessionData, callback?: () => void): void
    touch (sid: string, session: SessionData): Promise<void>
    destroy (sid: string, callback?: (err?: any) => void): void
    destroy (sid: string): Promise<void>
    clear (callback?: (err?: any) => void): void
    clear (): Promise<void>
    length (callback: (err: any, length?: number) => void): void
    length (): Promise<number>
    ids (callback: (err: any, ids?: string[]) => void): void
    ids (): Promise<string[]>
    all (callback: (err: any, sessions?: Array<SessionData & { id: string }>) => void): void
    all (): Promise<Array<SessionData & { id: string }>>
    /** The live sessions of `owner` (see the `userOf` option). */
    sessionsOf (owner: string | number): Promise<OwnedSession[]>
    sessionsOf (owner: string | number, callback: (err: any, sessions?: OwnedSession[]) => void): void
    /** Destroys every session of `owner` but `options.except`; resolves to how many. */
    destroySessionsOf (owner: string | number, options?: { except?: string }): Promise<number>
    destroySessionsOf (owner: string | number, options: { except?: string } | undefined, callback: (err: any, count?: number) => void): void
    /** Ends the connection for good. */
    close (callback: (err?: any) => void): void
    close (): Promise<void>
  }
}
