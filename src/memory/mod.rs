//! The default session store: serialized sessions in memory.

/// Pages that hold the packed records end to end.
pub mod arena;
/// Where the top-level `cookie` member of a session's JSON is.
/// The packed record format of one stored session.
pub mod record;
/// The store: index, expiry filing, sweeping and `max` eviction.
pub mod store;
