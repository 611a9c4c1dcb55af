//! The Redis session store, in connect-redis's data format.

/// Where the store connects and as whom, read when it is made.
pub mod config;
/// The IO thread that runs a store's commands in batches.
pub mod dispatch;
/// The connection: made once, shared, forgotten when it breaks.
pub mod link;
/// The commands of one store.
pub mod store;
/// TLS with Node's option names.
pub mod tls;
/// Session commands sent and answered on the JS thread, over JS's socket.
pub mod wire;
