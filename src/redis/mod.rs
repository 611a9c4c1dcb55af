//! The Redis session store, in connect-redis's data format.

/// The IO thread that runs a store's commands in batches.
pub mod dispatch;
/// The connection and the commands of one store.
pub mod store;
