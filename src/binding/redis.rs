//! The native Redis store. JS queues each command with one call of positional
//! arguments and hands the commands of one event-loop turn to the IO thread
//! (`redis::dispatch`) with one `flush`; the IO thread sends the replies back
//! through a single threadsafe function, which drains every reply that is
//! ready when it runs, as one flat array. Positional arguments and a flat array,
//! not objects: napi reads and writes object fields by name, through V8's
//! slowest paths, and that cost about 40k instructions per command. The
//! threadsafe function keeps the event loop alive only while commands are
//! outstanding.

use std::cell::RefCell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::{BufferSlice, Either4, Function, Null};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Env, Result, Status};
use napi_derive::napi;

use super::{guarded, invalid_arg};
use crate::conditional_save::{SaveCondition, SaveOutcome};
use crate::redis::config::{
    endpoint, tls_of, Address, ClusterNodes, Credentials, Handshake, RedisConfig, Target,
};
use crate::redis::dispatch::{command_for, Answer, Batch, Dispatcher, Reply, Request};
use crate::redis::store::{expected_digest, ttl_seconds, RedisStore};
use crate::redis::tls::TlsOptions;
use crate::redis::wire::Wire;

/// Options of the native Redis store; the JS `RedisStore` checks them and
/// fills in defaults. One of `url`, `cluster` and `sentinel` is given.
#[napi(object, object_to_js = false)]
pub struct RedisStoreOptions {
    pub url: Option<String>,
    pub cluster: Option<Vec<String>>,
    pub sentinel: Option<RedisSentinelOptions>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: Option<RedisTlsOptions>,
    pub prefix: String,
    pub scan_count: u32,
    /// Milliseconds.
    pub connect_timeout: u32,
    /// Milliseconds.
    pub command_timeout: u32,
}

/// Node's TLS option names, PEM as text (JS turns Buffers into text).
#[napi(object, object_to_js = false)]
pub struct RedisTlsOptions {
    pub ca: Option<Vec<String>>,
    pub cert: Option<String>,
    pub key: Option<String>,
    pub servername: Option<String>,
    pub reject_unauthorized: Option<bool>,
}

/// The Sentinels (`nodes`, URLs) that watch the master `name`; `username`,
/// `password` and `tls` are the Sentinels' own.
#[napi(object, object_to_js = false)]
pub struct RedisSentinelOptions {
    pub nodes: Vec<String>,
    pub name: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: Option<RedisTlsOptions>,
}

impl From<RedisTlsOptions> for TlsOptions {
    fn from(options: RedisTlsOptions) -> Self {
        TlsOptions {
            ca: options.ca.unwrap_or_default(),
            cert: options.cert,
            key: options.key,
            servername: options.servername,
            reject_unauthorized: options.reject_unauthorized.unwrap_or(true),
        }
    }
}

/// Where to connect, read from the options; the message of an error says what
/// is wrong with them.
fn target_of(options: &mut RedisStoreOptions) -> std::result::Result<Target, String> {
    let credentials = Credentials {
        username: options.username.take(),
        password: options.password.take(),
    };
    let tls = tls_of(options.tls.take().map(TlsOptions::from))?;
    if let Some(nodes) = options.cluster.take() {
        if tls
            .as_ref()
            .is_some_and(|tls| tls.options.servername.is_some())
        {
            return Err(
                "tls.servername does not apply to a Cluster, whose nodes have names of their own"
                    .into(),
            );
        }
        // Each URL must read; the Cluster client takes them as they are.
        for url in &nodes {
            endpoint(url, &credentials, tls.as_ref())?;
        }
        return Ok(Target::Cluster(ClusterNodes {
            urls: nodes,
            tls,
            username: credentials.username,
            password: credentials.password,
        }));
    }
    if let Some(sentinel) = options.sentinel.take() {
        let sentinel_credentials = Credentials {
            username: sentinel.username,
            password: sentinel.password,
        };
        let sentinel_tls = tls_of(sentinel.tls.map(TlsOptions::from))?;
        let sentinels = sentinel
            .nodes
            .iter()
            .map(|url| endpoint(url, &sentinel_credentials, sentinel_tls.as_ref()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        // The master's handshake and TLS; its address comes from the Sentinels.
        let master = Handshake::new(&credentials, tls);
        return Ok(Target::Sentinel {
            sentinels,
            name: sentinel.name,
            master,
        });
    }
    let url = options
        .url
        .take()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_string());
    Ok(Target::Server(endpoint(&url, &credentials, tls.as_ref())?))
}

/// What a command does (JS: `RedisOp.Get`, ...).
#[napi]
pub enum RedisOp {
    Get,
    Set,
    Save,
    Rotate,
    Index,
    Indexed,
    Unindex,
    Touch,
    Destroy,
    Ids,
    All,
    Clear,
    Ping,
    Close,
}

/// How a reply reads (JS: `RedisReplyKind.Value`, ...). Replies reach JS as
/// one flat array, three items each: `seq, kind, payload`.
#[napi]
pub enum RedisReplyKind {
    /// `payload`: the text, or null (none, or a command that answers nothing).
    Value,
    /// `payload`: an array of texts (`ids`; `all` as id, json, id, json, ...).
    Values,
    /// A `save` that wrote; `payload` null.
    Saved,
    /// A `save` that did not write: `payload` the stored JSON, or null when
    /// there was no session.
    NotSaved,
    /// `payload`: the message.
    Error,
}

/// One item of the flat reply array.
type ReplyItem = Either4<u32, String, Null, Vec<String>>;

/// Appends `reply` as `seq, kind, payload`.
fn push_reply(reply: Reply, out: &mut Vec<ReplyItem>) {
    let text = |value: Option<String>| value.map_or(Either4::C(Null), Either4::B);
    let (kind, payload) = match reply.outcome {
        Ok(Answer::Done) => (RedisReplyKind::Value, Either4::C(Null)),
        Ok(Answer::Text(value)) => (RedisReplyKind::Value, text(value)),
        Ok(Answer::Texts(texts)) => (RedisReplyKind::Values, Either4::D(texts)),
        Ok(Answer::Saved(SaveOutcome::Saved)) => (RedisReplyKind::Saved, Either4::C(Null)),
        Ok(Answer::Saved(SaveOutcome::Missing)) => (RedisReplyKind::NotSaved, Either4::C(Null)),
        Ok(Answer::Saved(SaveOutcome::Differs(current))) => {
            (RedisReplyKind::NotSaved, Either4::B(current))
        }
        Err(message) => (RedisReplyKind::Error, Either4::B(message)),
    };
    out.push(Either4::A(reply.seq));
    out.push(Either4::A(kind as u32));
    out.push(payload);
}

type RepliesReady = ThreadsafeFunction<(), (), Vec<ReplyItem>, Status, false, true>;

/// What the IO thread and the JS thread share.
struct Mailbox {
    replies: Mutex<Vec<Reply>>,
    /// Commands submitted and not yet handed to JS (touched on the JS thread only).
    outstanding: AtomicUsize,
    /// The threadsafe function, to ref and unref it from the JS thread.
    ready: AtomicPtr<c_void>,
}

impl Mailbox {
    fn take(&self) -> Vec<Reply> {
        std::mem::take(&mut *self.replies.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Counts commands in (positive) and out (negative); the event loop is kept
    /// alive exactly while some are outstanding.
    fn count(&self, env: sys::napi_env, change: isize) {
        let before = self.outstanding.load(Ordering::Relaxed);
        let after = before.saturating_add_signed(change);
        self.outstanding.store(after, Ordering::Relaxed);
        let raw: sys::napi_threadsafe_function = self.ready.load(Ordering::Relaxed).cast();
        if raw.is_null() {
            return;
        }
        // Both only flip a flag on the threadsafe function's libuv handle.
        unsafe {
            if before == 0 && after > 0 {
                sys::napi_ref_threadsafe_function(env, raw);
            } else if before > 0 && after == 0 {
                sys::napi_unref_threadsafe_function(env, raw);
            }
        }
    }
}

#[napi]
pub struct NativeRedisStore {
    dispatcher: Dispatcher,
    store: Arc<RedisStore>,
    mailbox: Arc<Mailbox>,
    /// Commands queued on the JS thread since the last `flush`.
    queued: RefCell<Batch>,
    /// For a standalone server without TLS: its session commands go over a
    /// socket JS owns (`wire`), the rest through the IO thread.
    direct: Option<Direct>,
    /// Kept so that the threadsafe function lives as long as this object.
    _ready: Arc<RepliesReady>,
}

struct Direct {
    target: DirectTarget,
    settings: redis::RedisConnectionInfo,
    wire: RefCell<Wire>,
}

/// Where JS connects for the session commands: `host` and `port`, or `path`
/// (a Unix socket); `name` says which server in messages.
#[napi(object)]
#[derive(Clone)]
pub struct DirectTarget {
    pub host: Option<String>,
    pub port: Option<u32>,
    pub path: Option<String>,
    pub name: String,
}

#[napi]
impl NativeRedisStore {
    /// `on_replies` receives the replies as a flat array (`RedisReplyKind`).
    /// It must not hold on to this object: the threadsafe function keeps it
    /// alive.
    #[napi(constructor)]
    pub fn new(
        options: RedisStoreOptions,
        on_replies: Function<'_, Vec<ReplyItem>, ()>,
    ) -> Result<Self> {
        guarded(|| Self::start(options, on_replies))
    }

    /// Queues command `seq` until the next `flush`; the arguments a command
    /// does not use are `undefined`. Its reply comes through `on_replies`.
    ///
    /// `set` and `touch` live until `expires` (ms since the epoch, the
    /// cookie's expiry), or for `ttl` seconds when there is none; a lifetime of
    /// zero or less deletes the session, as connect-redis does. `expire: false`
    /// (connect-redis's `disableTTL`) makes `set` write without an expiry.
    /// `save`: `condition`, numbered as lib/stores/protocol.js numbers them,
    /// and for "unchanged" the JSON `expected` to be stored. `rotate`: the ID
    /// `old_sid` the session moves from (to `sid`). `index`, `indexed`,
    /// `unindex`: whose index (`owner`, from `userOf`), and for `unindex` the
    /// IDs `sids` to take out.
    #[allow(clippy::too_many_arguments)]
    #[napi]
    pub fn queue(
        &self,
        seq: u32,
        op: RedisOp,
        sid: Option<String>,
        json: Option<String>,
        expires: Option<f64>,
        ttl: Option<i64>,
        expire: Option<bool>,
        condition: Option<u32>,
        expected: Option<String>,
        old_sid: Option<String>,
        owner: Option<String>,
        sids: Option<Vec<String>>,
    ) -> Result<()> {
        guarded(|| {
            let ttl = ttl_seconds(expires, now_ms(), ttl.unwrap_or(0));
            // A write keeps a TTL unless told not to, and always deletes at zero or less.
            let write_ttl = (expire.unwrap_or(true) || ttl <= 0).then_some(ttl);
            let request = match op {
                RedisOp::Get => Request::Get {
                    sid: required(sid, "sid")?,
                },
                RedisOp::Set => Request::Set {
                    sid: required(sid, "sid")?,
                    json: required(json, "json")?,
                    ttl: write_ttl,
                },
                RedisOp::Save => Request::Save {
                    sid: required(sid, "sid")?,
                    json: required(json, "json")?,
                    ttl: write_ttl,
                    condition: SaveCondition::from_code(
                        condition.unwrap_or(0),
                        expected.as_deref().map(expected_digest),
                    )
                    .ok_or_else(|| invalid_arg("unknown save condition"))?,
                },
                RedisOp::Rotate => Request::Rotate {
                    old: required(old_sid, "oldSid")?,
                    sid: required(sid, "sid")?,
                    json: required(json, "json")?,
                    ttl: write_ttl,
                },
                RedisOp::Index => Request::Index {
                    owner: required(owner, "owner")?,
                    sid: required(sid, "sid")?,
                    ttl: write_ttl,
                },
                RedisOp::Indexed => Request::Indexed {
                    owner: required(owner, "owner")?,
                },
                RedisOp::Unindex => Request::Unindex {
                    owner: required(owner, "owner")?,
                    sids: sids.unwrap_or_default(),
                },
                RedisOp::Touch => Request::Touch {
                    sid: required(sid, "sid")?,
                    ttl,
                },
                RedisOp::Destroy => Request::Destroy {
                    sid: required(sid, "sid")?,
                },
                RedisOp::Ids => Request::Ids,
                RedisOp::All => Request::All,
                RedisOp::Clear => Request::Clear,
                RedisOp::Ping => Request::Ping,
                RedisOp::Close => Request::Close,
            };
            self.queued.borrow_mut().push((seq, request));
            Ok(())
        })
    }

    /// Sends the queued commands: the session commands of a direct store
    /// are returned encoded, for JS to write to its socket; the rest go to the
    /// IO thread, one wake-up for them all.
    #[napi]
    pub fn flush(&self, env: &Env) -> Result<Option<String>> {
        guarded(|| {
            let batch = std::mem::take(&mut *self.queued.borrow_mut());
            let Some(direct) = &self.direct else {
                self.submit(env, batch)?;
                return Ok(None);
            };
            // The session commands go this way; the rest to the IO thread.
            let mut commands = Vec::new();
            let mut threaded = Vec::new();
            for (seq, request) in batch {
                match command_for(&self.store, &request) {
                    Some(command) => commands.push((seq, request, command)),
                    None => threaded.push((seq, request)),
                }
            }
            // First, so that a failure leaves nothing on the wire that JS never writes.
            self.submit(env, threaded)?;
            if commands.is_empty() {
                return Ok(None);
            }
            let mut wire = direct.wire.borrow_mut();
            let mut bytes = Vec::new();
            // Counted as the IO thread's are: the event loop stays alive while any waits.
            self.mailbox.count(env.raw(), commands.len() as isize);
            for (seq, request, command) in commands {
                wire.push(seq, request, &command, &mut bytes);
            }
            // Our commands are UTF-8 throughout (keys, JSON, numbers).
            String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| napi::Error::from_reason("a Redis command was not UTF-8"))
        })
    }

    /// Where JS connects for the session commands; `null` when they go
    /// through the IO thread (Cluster, Sentinel, TLS).
    #[napi]
    pub fn direct_target(&self) -> Option<DirectTarget> {
        self.direct.as_ref().map(|direct| direct.target.clone())
    }

    /// The handshake of a new connection, to be written before anything else;
    /// `seq` is answered once it is done (an error: the connection is unusable).
    #[napi]
    pub fn direct_handshake<'env>(&self, env: &'env Env, seq: u32) -> Result<BufferSlice<'env>> {
        guarded(|| {
            let direct = self.direct()?;
            let bytes = direct.wire.borrow_mut().handshake(seq, &direct.settings);
            BufferSlice::copy_from(env, bytes)
        })
    }

    /// The replies in `chunk`, as `on_replies` gets them. Throws when the
    /// connection can no longer be read; JS then drops it (`direct_closed`).
    #[napi]
    pub fn direct_receive(&self, env: &Env, chunk: BufferSlice) -> Result<Vec<ReplyItem>> {
        guarded(|| {
            let mut wire = self.direct()?.wire.borrow_mut();
            let before = wire.commands();
            let received = wire.receive(&chunk).map_err(napi::Error::from_reason)?;
            // A retried command stays counted until the IO thread answers it.
            let answered = before - wire.commands() - received.retries.len();
            drop(wire);
            self.mailbox.count(env.raw(), -(answered as isize));
            self.hand_over(received.retries)?;
            Ok(flat(received.replies))
        })
    }

    /// The connection is gone: every command written to it fails with `message`.
    #[napi]
    pub fn direct_closed(&self, env: &Env, message: String) -> Result<Vec<ReplyItem>> {
        guarded(|| {
            let mut wire = self.direct()?.wire.borrow_mut();
            self.mailbox.count(env.raw(), -(wire.commands() as isize));
            Ok(flat(wire.fail_all(&message)))
        })
    }

    /// What waited for the connection has been written now.
    #[napi]
    pub fn direct_written(&self) -> Result<()> {
        guarded(|| {
            self.direct()?.wire.borrow_mut().written();
            Ok(())
        })
    }

    /// Milliseconds the oldest command on the connection has waited; -1 when
    /// none waits.
    #[napi]
    pub fn direct_oldest_wait(&self) -> Result<f64> {
        guarded(|| {
            let wire = self.direct()?.wire.borrow();
            Ok(wire
                .oldest_wait()
                .map_or(-1.0, |wait| wait.as_secs_f64() * 1000.0))
        })
    }
}

fn flat(replies: Vec<Reply>) -> Vec<ReplyItem> {
    let mut items = Vec::with_capacity(replies.len() * 3);
    for reply in replies {
        push_reply(reply, &mut items);
    }
    items
}

impl NativeRedisStore {
    fn direct(&self) -> Result<&Direct> {
        self.direct
            .as_ref()
            .ok_or_else(|| invalid_arg("this store sends every command through its IO thread"))
    }

    /// Hands `batch` to the IO thread.
    fn submit(&self, env: &Env, batch: Batch) -> Result<()> {
        let count = batch.len() as isize;
        self.hand_over(batch)?;
        self.mailbox.count(env.raw(), count);
        Ok(())
    }

    /// Hands `batch` to the IO thread without counting it (already counted).
    fn hand_over(&self, batch: Batch) -> Result<()> {
        if batch.is_empty() || self.dispatcher.submit(batch).is_ok() {
            return Ok(());
        }
        Err(napi::Error::from_reason("the Redis thread has stopped"))
    }

    fn start(
        mut options: RedisStoreOptions,
        on_replies: Function<'_, Vec<ReplyItem>, ()>,
    ) -> Result<Self> {
        if options.connect_timeout == 0 || options.command_timeout == 0 {
            return Err(invalid_arg(
                "connectTimeout and commandTimeout must be positive",
            ));
        }
        let target = target_of(&mut options).map_err(|message| invalid_arg(&message))?;
        let mailbox = Arc::new(Mailbox {
            replies: Mutex::new(Vec::new()),
            outstanding: AtomicUsize::new(0),
            ready: AtomicPtr::new(std::ptr::null_mut()),
        });
        let drained = Arc::clone(&mailbox);
        let ready: RepliesReady = on_replies
            .build_threadsafe_function::<()>()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(move |ctx| {
                let replies = drained.take();
                drained.count(ctx.env.raw(), -(replies.len() as isize));
                Ok(flat(replies))
            })?;
        mailbox.ready.store(ready.raw().cast(), Ordering::Relaxed);
        let ready = Arc::new(ready);

        let config = RedisConfig {
            target,
            prefix: options.prefix,
            scan_count: options.scan_count.max(1),
            connect_timeout: Duration::from_millis(options.connect_timeout.into()),
            command_timeout: Duration::from_millis(options.command_timeout.into()),
        };
        let direct = direct_of(&config.target);
        let store = Arc::new(RedisStore::new(config));
        let filled = Arc::clone(&mailbox);
        let notify = Arc::clone(&ready);
        let dispatcher = Dispatcher::start(Arc::clone(&store), move |reply| {
            let mut replies = filled.replies.lock().unwrap_or_else(|p| p.into_inner());
            let first = replies.is_empty();
            replies.push(reply);
            drop(replies);
            // One call wakes the JS thread for everything queued until it runs.
            if first {
                notify.call((), ThreadsafeFunctionCallMode::NonBlocking);
            }
        })
        .map_err(|error| {
            napi::Error::from_reason(format!("cannot start the Redis thread: {error}"))
        })?;
        Ok(NativeRedisStore {
            dispatcher,
            store,
            mailbox,
            queued: RefCell::new(Vec::new()),
            direct,
            _ready: ready,
        })
    }
}

/// A standalone server spoken to in RESP2 without TLS is spoken to directly.
fn direct_of(target: &Target) -> Option<Direct> {
    let Target::Server(endpoint) = target else {
        return None;
    };
    if endpoint.tls.is_some() || endpoint.settings.protocol() != redis::ProtocolVersion::RESP2 {
        return None;
    }
    let name = endpoint.describe();
    let target = match &endpoint.address {
        Address::Tcp { host, port } => DirectTarget {
            host: Some(host.clone()),
            port: Some((*port).into()),
            path: None,
            name,
        },
        Address::Unix(path) => DirectTarget {
            host: None,
            port: None,
            path: Some(path.display().to_string()),
            name,
        },
    };
    Some(Direct {
        target,
        settings: endpoint.settings.clone(),
        wire: RefCell::new(Wire::new()),
    })
}

fn required(value: Option<String>, name: &str) -> Result<String> {
    value.ok_or_else(|| invalid_arg(&format!("{name} is required")))
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_millis() as f64)
}
