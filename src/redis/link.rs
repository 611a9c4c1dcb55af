//! The store's connection: made on first use, by one attempt at a time that
//! every waiting command shares, each attempt bounded by the connect timeout.
//! No lock is held while connecting, so however many commands arrive while
//! Redis hangs or refuses, each waits at most for the attempt in flight. A
//! connection that failed (dropped, timed out, or a master turned replica) is
//! forgotten, and the next command makes a new one, asking the Sentinels again
//! where the master is.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSub};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, RedisError, TlsCertificates};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::config::{Address, ClusterNodes, Endpoint, RedisConfig, Target};
use super::store::StoreError;

#[derive(Clone)]
pub enum Connection {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

/// A connection and the number that tells it apart from the ones before it.
#[derive(Clone)]
pub struct Live {
    pub id: u64,
    pub connection: Connection,
}

type Attempt = watch::Receiver<Option<Result<Live, String>>>;

enum State {
    Idle,
    Connecting(Attempt),
    Ready(Live),
    Closed,
}

pub struct Link {
    config: Arc<RedisConfig>,
    state: Arc<Mutex<State>>,
    attempts: AtomicU64,
    /// Set on `close`; the Sentinel watcher stops when it is set or dropped.
    closed: watch::Sender<bool>,
    watching: AtomicBool,
}

impl Link {
    pub fn new(config: Arc<RedisConfig>) -> Link {
        Link {
            config,
            state: Arc::new(Mutex::new(State::Idle)),
            attempts: AtomicU64::new(0),
            closed: watch::channel(false).0,
            watching: AtomicBool::new(false),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The live connection, or the outcome of the attempt in flight (started
    /// here when there is none).
    pub async fn connection(&self) -> Result<Live, StoreError> {
        let mut attempt = {
            let mut state = self.state();
            match &*state {
                State::Closed => return Err(StoreError::Closed),
                State::Ready(live) => return Ok(live.clone()),
                State::Connecting(attempt) => attempt.clone(),
                State::Idle => {
                    self.watch_sentinels();
                    let attempt = self.start_attempt();
                    *state = State::Connecting(attempt.clone());
                    attempt
                }
            }
        };
        // The attempt ends by its own timeout; this one covers a runtime that
        // is shutting down.
        let outcome = tokio::time::timeout(self.config.connect_timeout, async {
            match attempt.wait_for(Option::is_some).await {
                Ok(outcome) => outcome.clone(),
                Err(_) => None,
            }
        })
        .await;
        match outcome {
            Ok(Some(Ok(live))) => Ok(live),
            Ok(Some(Err(message))) => Err(StoreError::Connect(message)),
            Ok(None) => Err(StoreError::Closed),
            Err(_) => Err(StoreError::Timeout("connect")),
        }
    }

    /// Spawns one connect attempt; it records its outcome in the state itself,
    /// so it completes even if every command waiting for it gave up.
    fn start_attempt(&self) -> Attempt {
        let (sender, receiver) = watch::channel(None);
        let config = Arc::clone(&self.config);
        let state = Arc::clone(&self.state);
        let id = self.attempts.fetch_add(1, Ordering::Relaxed) + 1;
        tokio::spawn(async move {
            let outcome = match tokio::time::timeout(config.connect_timeout, open(&config)).await {
                Ok(Ok(connection)) => Ok(Live { id, connection }),
                Ok(Err(message)) => Err(message),
                // "timed out", as every timeout says (JS gives it its error code).
                Err(_) => Err(format!(
                    "timed out after connectTimeout ({} ms)",
                    config.connect_timeout.as_millis()
                )),
            };
            {
                let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
                if matches!(*state, State::Connecting(_)) {
                    *state = match &outcome {
                        Ok(live) => State::Ready(live.clone()),
                        Err(_) => State::Idle,
                    };
                }
            }
            sender.send_replace(Some(outcome));
        });
        receiver
    }

    /// Forgets connection `id` after it failed, unless a newer one replaced it.
    pub fn forget(&self, id: u64) {
        let mut state = self.state();
        if matches!(&*state, State::Ready(live) if live.id == id) {
            *state = State::Idle;
        }
    }

    /// Drops the connection; later commands fail with `Closed`.
    pub fn close(&self) {
        *self.state() = State::Closed;
        self.closed.send_replace(true);
    }

    /// Under Sentinel, starts (once) listening for the master's switch, so
    /// that writes stop going to a demoted master as soon as the Sentinels
    /// announce the new one, not when the old one is reconfigured seconds later.
    fn watch_sentinels(&self) {
        let Target::Sentinel {
            sentinels, name, ..
        } = &self.config.target
        else {
            return;
        };
        if self.watching.swap(true, Ordering::Relaxed) {
            return;
        }
        tokio::spawn(watch_switches(
            sentinels.clone(),
            name.clone(),
            self.config.connect_timeout,
            Arc::clone(&self.state),
            self.closed.subscribe(),
        ));
    }
}

/// Follows `+switch-master` on one Sentinel after another (the next when one
/// fails), and forgets the connection when `name`'s master switches.
async fn watch_switches(
    sentinels: Vec<Endpoint>,
    name: String,
    connect_timeout: Duration,
    state: Arc<Mutex<State>>,
    mut closed: watch::Receiver<bool>,
) {
    for sentinel in sentinels.iter().cycle() {
        let listen = async {
            let subscribed = tokio::time::timeout(connect_timeout, async {
                let stream = stream_to(sentinel).await?;
                let mut pubsub = PubSub::new(&sentinel.settings, stream)
                    .await
                    .map_err(|error| error.to_string())?;
                pubsub
                    .subscribe("+switch-master")
                    .await
                    .map_err(|error| error.to_string())?;
                Ok::<_, String>(pubsub)
            })
            .await;
            let Ok(Ok(pubsub)) = subscribed else { return };
            let mut messages = pubsub.into_on_message();
            while let Some(message) = messages.next().await {
                // "<name> <old ip> <old port> <new ip> <new port>"
                let payload: String = message.get_payload().unwrap_or_default();
                if payload.split(' ').next() == Some(name.as_str()) {
                    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
                    if matches!(*state, State::Ready(_)) {
                        *state = State::Idle;
                    }
                }
            }
        };
        tokio::select! {
            _ = listen => {}
            _ = closed.wait_for(|closed| *closed) => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = closed.wait_for(|closed| *closed) => return,
        }
    }
}

/// Whether an error means the connection itself is no longer usable.
pub fn breaks_connection(error: &StoreError) -> bool {
    match error {
        StoreError::Timeout(_) => true,
        StoreError::Redis(error) => breaks(error),
        _ => false,
    }
}

fn breaks(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_unrecoverable_error()
        // A master demoted by a failover: the Sentinels know the new one.
        || error.code() == Some("READONLY")
}

async fn open(config: &RedisConfig) -> Result<Connection, String> {
    match &config.target {
        Target::Server(endpoint) => connect(endpoint).await.map(Connection::Single),
        Target::Cluster(nodes) => open_cluster(nodes, config).await.map(Connection::Cluster),
        Target::Sentinel {
            sentinels,
            name,
            master,
        } => {
            let (host, port) = ask_sentinels(sentinels, name).await?;
            let endpoint = master.at(host, port);
            let mut connection = connect(&endpoint).await?;
            let role: Vec<redis::Value> = redis::cmd("ROLE")
                .query_async(&mut connection)
                .await
                .map_err(|error| format!("{}: {error}", endpoint.describe()))?;
            match role.first() {
                Some(redis::Value::BulkString(role)) if role == b"master" => {
                    Ok(Connection::Single(connection))
                }
                _ => Err(format!(
                    "{} is not a master yet (the Sentinels of {name:?} are failing over)",
                    endpoint.describe()
                )),
            }
        }
    }
}

/// A byte stream to a server: TCP, TLS over TCP, or a Unix socket.
trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> ByteStream for T {}

async fn stream_to(endpoint: &Endpoint) -> Result<Box<dyn ByteStream>, String> {
    let describe = |error: std::io::Error| format!("{}: {error}", endpoint.describe());
    Ok(match &endpoint.address {
        Address::Tcp { host, port } => {
            let tcp = TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(describe)?;
            let _ = tcp.set_nodelay(true);
            match &endpoint.tls {
                Some(tls) => Box::new(tls.wrap(host, tcp).await.map_err(describe)?),
                None => Box::new(tcp),
            }
        }
        Address::Unix(path) => Box::new(UnixStream::connect(path).await.map_err(describe)?),
    })
}

/// One connection to one server, with its TLS and handshake.
async fn connect(endpoint: &Endpoint) -> Result<MultiplexedConnection, String> {
    let stream = stream_to(endpoint).await?;
    // Our own timeout bounds every command, so the connection sets none.
    let (connection, driver) = MultiplexedConnection::new_with_config(
        &endpoint.settings,
        stream,
        AsyncConnectionConfig::new(),
    )
    .await
    .map_err(|error| format!("{}: {error}", endpoint.describe()))?;
    // The driver ends by itself when the last handle to the connection goes.
    tokio::spawn(driver);
    Ok(connection)
}

/// Asks every Sentinel at once where `name`'s master is; the first answer wins.
async fn ask_sentinels(sentinels: &[Endpoint], name: &str) -> Result<(String, u16), String> {
    let mut asking = JoinSet::new();
    for sentinel in sentinels {
        let sentinel = sentinel.clone();
        let name = name.to_string();
        asking.spawn(async move {
            let mut connection = connect(&sentinel).await?;
            let address: Option<(String, u16)> = redis::cmd("SENTINEL")
                .arg("GET-MASTER-ADDR-BY-NAME")
                .arg(&name)
                .query_async(&mut connection)
                .await
                .map_err(|error| format!("{}: {error}", sentinel.describe()))?;
            address.ok_or_else(|| format!("{} knows no master {name:?}", sentinel.describe()))
        });
    }
    let mut errors = Vec::new();
    while let Some(answer) = asking.join_next().await {
        match answer {
            Ok(Ok(address)) => return Ok(address),
            Ok(Err(message)) => errors.push(message),
            Err(error) => errors.push(error.to_string()),
        }
    }
    Err(format!(
        "no Sentinel named the master: {}",
        errors.join("; ")
    ))
}

async fn open_cluster(
    nodes: &ClusterNodes,
    config: &RedisConfig,
) -> Result<ClusterConnection, String> {
    let mut builder = ClusterClientBuilder::new(nodes.urls.clone())
        .connection_timeout(config.connect_timeout)
        .response_timeout(config.command_timeout)
        .retries(2);
    if let Some(username) = &nodes.username {
        builder = builder.username(username);
    }
    if let Some(password) = &nodes.password {
        builder = builder.password(password);
    }
    if let Some(tls) = &nodes.tls {
        let options = &tls.options;
        builder = builder
            .tls(if options.reject_unauthorized {
                redis::TlsMode::Secure
            } else {
                redis::TlsMode::Insecure
            })
            .certs(TlsCertificates {
                client_tls: match (&options.cert, &options.key) {
                    (Some(cert), Some(key)) => Some(redis::ClientTlsConfig {
                        client_cert: cert.clone().into_bytes(),
                        client_key: key.clone().into_bytes(),
                    }),
                    _ => None,
                },
                root_cert: (!options.ca.is_empty()).then(|| options.ca.concat().into_bytes()),
            });
    }
    let client = builder.build().map_err(|error| error.to_string())?;
    client
        .get_async_connection()
        .await
        .map_err(|error| error.to_string())
}

/// How long the command may still take, from its start.
pub fn remaining(deadline: tokio::time::Instant) -> Duration {
    deadline.saturating_duration_since(tokio::time::Instant::now())
}
