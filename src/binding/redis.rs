//! The native Redis store. Every method returns a Promise settled from tokio,
//! so Redis IO and protocol work stay off the JS thread.

use std::sync::Arc;
use std::time::Duration;

use napi::{Error, Result, Status};
use napi_derive::napi;

use super::{guarded, invalid_arg};
use crate::redis_store::{ttl_seconds, RedisConfig, RedisStore, StoreError};

/// Options of the native Redis store; the JS `RedisStore` fills in defaults.
#[napi(object, object_to_js = false)]
pub struct RedisStoreOptions {
    pub url: String,
    pub cluster: Option<Vec<String>>,
    pub prefix: String,
    pub scan_count: u32,
    /// Milliseconds.
    pub connect_timeout: u32,
    /// Milliseconds.
    pub command_timeout: u32,
}

/// One session returned by `all`.
#[napi(object)]
pub struct StoredSession {
    pub id: String,
    pub json: String,
}

fn to_js_error(error: StoreError) -> Error {
    Error::new(Status::GenericFailure, error.to_string())
}

#[napi]
pub struct NativeRedisStore {
    store: Arc<RedisStore>,
}

#[napi]
impl NativeRedisStore {
    #[napi(constructor)]
    pub fn new(options: RedisStoreOptions) -> Result<Self> {
        guarded(|| {
            if options.connect_timeout == 0 || options.command_timeout == 0 {
                return Err(invalid_arg(
                    "connectTimeout and commandTimeout must be positive",
                ));
            }
            let config = RedisConfig {
                url: options.url,
                cluster: options.cluster.unwrap_or_default(),
                prefix: options.prefix,
                scan_count: options.scan_count.max(1),
                connect_timeout: Duration::from_millis(options.connect_timeout.into()),
                command_timeout: Duration::from_millis(options.command_timeout.into()),
            };
            Ok(NativeRedisStore {
                store: Arc::new(RedisStore::new(config)),
            })
        })
    }

    /// The session's JSON text, or `null`.
    #[napi]
    pub async fn get(&self, sid: String) -> Result<Option<String>> {
        self.store.get(&sid).await.map_err(to_js_error)
    }

    /// Writes the session to live until `expires` (ms since the epoch, the
    /// cookie's expiry), or for `ttl` seconds when there is none. A lifetime
    /// of zero or less deletes it, as connect-redis does; `expire: false`
    /// (connect-redis's `disableTTL`) writes it without an expiry.
    #[napi]
    pub async fn set(
        &self,
        sid: String,
        json: String,
        expires: Option<f64>,
        ttl: i64,
        expire: bool,
    ) -> Result<()> {
        let ttl = ttl_seconds(expires, now_ms(), ttl);
        let lifetime = if expire || ttl <= 0 { Some(ttl) } else { None };
        self.store
            .set(&sid, &json, lifetime)
            .await
            .map_err(to_js_error)
    }

    /// Resets the session's time to live (`EXPIRE`), computed as for `set`.
    #[napi]
    pub async fn touch(&self, sid: String, expires: Option<f64>, ttl: i64) -> Result<()> {
        let ttl = ttl_seconds(expires, now_ms(), ttl);
        self.store.touch(&sid, ttl).await.map_err(to_js_error)
    }

    #[napi]
    pub async fn destroy(&self, sid: String) -> Result<()> {
        self.store.destroy(&sid).await.map_err(to_js_error)
    }

    /// The IDs of every stored session (SCAN, on every primary of a cluster).
    #[napi]
    pub async fn ids(&self) -> Result<Vec<String>> {
        let prefix_len = self.store.prefix().len();
        let keys = self.store.keys().await.map_err(to_js_error)?;
        Ok(keys
            .into_iter()
            .map(|key| key[prefix_len..].to_string())
            .collect())
    }

    #[napi]
    pub async fn all(&self) -> Result<Vec<StoredSession>> {
        let sessions = self.store.all().await.map_err(to_js_error)?;
        Ok(sessions
            .into_iter()
            .map(|(id, json)| StoredSession { id, json })
            .collect())
    }

    #[napi]
    pub async fn clear(&self) -> Result<()> {
        self.store.clear().await.map_err(to_js_error)
    }

    #[napi]
    pub async fn ping(&self) -> Result<()> {
        self.store.ping().await.map_err(to_js_error)
    }

    /// Closes the connection; later calls fail.
    #[napi]
    pub async fn close(&self) -> Result<()> {
        self.store.close().await;
        Ok(())
    }
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_millis() as f64)
}
