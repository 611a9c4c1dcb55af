//! The Redis session store, in connect-redis's data format: key `prefix + sid`,
//! the session's JSON text as the value (never re-serialized here), `SET ... EX`
//! with a TTL taken from the cookie, `EXPIRE` for touch and `SCAN` (never `KEYS`)
//! for listing. One server (named by a URL or by Sentinels) or a Redis
//! Cluster, through `link`. Every wait is bounded by the connect and command
//! timeouts.

use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Arg, Cmd, FromRedisValue, RedisError, Value};

use super::config::{RedisConfig, Target};
use super::link::{breaks_connection, remaining, Connection, Link, Live};
use crate::conditional_save::{SaveCondition, SaveOutcome};

#[derive(Debug)]
pub enum StoreError {
    Redis(RedisError),
    /// No connection could be made (the message says to what, and why).
    Connect(String),
    Timeout(&'static str),
    Closed,
    Unsupported(&'static str),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Redis(error) => write!(f, "Redis error: {error}"),
            StoreError::Connect(message) => write!(f, "cannot connect to Redis: {message}"),
            StoreError::Timeout(what) => write!(f, "Redis {what} timed out"),
            StoreError::Closed => write!(f, "the Redis store was closed"),
            StoreError::Unsupported(what) => write!(f, "not supported: {what}"),
        }
    }
}

impl From<RedisError> for StoreError {
    fn from(error: RedisError) -> Self {
        StoreError::Redis(error)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

pub struct RedisStore {
    config: std::sync::Arc<RedisConfig>,
    link: Link,
}

/// TTL in seconds, as connect-redis computes it: from the cookie's expiry when
/// there is one (rounded up), else the default.
pub fn ttl_seconds(expires_ms: Option<f64>, now_ms: f64, default_ttl: i64) -> i64 {
    match expires_ms {
        Some(expires) if expires.is_finite() => ((expires - now_ms) / 1000.0).ceil() as i64,
        _ => default_ttl,
    }
}

/// The conditional save (`save_command`): KEYS[1] the session's key; ARGV the
/// condition (`absent`, `present` or `unchanged`), the JSON, the TTL in seconds
/// (empty: no expiry; zero or less deletes, as connect-redis does) and, for
/// `unchanged`, the SHA-1 of the JSON that must be stored. Answers `{1}` when
/// written, `{0}` when there is no session, `{2, json}` with the stored JSON
/// when it does not meet the condition. Only the script sees the version: the
/// stored value stays connect-redis's plain JSON.
const SAVE_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
local condition = ARGV[1]
if condition == 'absent' then
  if current then return {2, current} end
elseif not current then
  return {0}
elseif condition == 'unchanged' and redis.sha1hex(current) ~= ARGV[4] then
  return {2, current}
end
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
elseif tonumber(ARGV[3]) <= 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return {1}
";

/// A session moved to a new ID (`rotate`): KEYS the old and the new key; ARGV
/// the JSON and the TTL as for `SAVE_SCRIPT`. Answers as `SAVE_SCRIPT` does:
/// `{0}` when the old session is gone, `{2, json}` when the new ID is taken.
const ROTATE_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local taken = redis.call('GET', KEYS[2])
if taken then return {2, taken} end
if ARGV[2] == '' then
  redis.call('SET', KEYS[2], ARGV[1])
elseif tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
end
redis.call('DEL', KEYS[1])
return {1}
";

/// A Lua script called by its SHA-1 (`EVALSHA`), so that its text crosses the
/// network only when the server does not have it yet (after a restart, or on
/// a node seen for the first time): then the call is made again with `EVAL`.
pub struct Script {
    text: &'static str,
    sha: std::sync::OnceLock<String>,
}

impl Script {
    const fn new(text: &'static str) -> Script {
        Script {
            text,
            sha: std::sync::OnceLock::new(),
        }
    }

    fn sha(&self) -> &str {
        self.sha.get_or_init(|| expected_digest(self.text))
    }

    /// `EVALSHA sha numkeys`; the caller adds the keys and arguments.
    fn call(&self, keys: usize) -> Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(self.sha()).arg(keys);
        cmd
    }
}

static SCRIPTS: [&Script; 3] = [&SAVE, &ROTATE, &INDEX];
static SAVE: Script = Script::new(SAVE_SCRIPT);
static ROTATE: Script = Script::new(ROTATE_SCRIPT);
static INDEX: Script = Script::new(INDEX_SCRIPT);

/// The `EVAL` form of an `EVALSHA` of one of our scripts, for a server that
/// answered `NOSCRIPT`; `None` for any other command.
pub fn with_script_text(cmd: &Cmd) -> Option<Cmd> {
    let mut args = cmd.args_iter();
    let (Some(Arg::Simple(name)), Some(Arg::Simple(sha))) = (args.next(), args.next()) else {
        return None;
    };
    if !name.eq_ignore_ascii_case(b"EVALSHA") {
        return None;
    }
    let script = SCRIPTS
        .iter()
        .find(|script| script.sha().as_bytes() == sha)?;
    let mut eval = redis::cmd("EVAL");
    eval.arg(script.text);
    for arg in args {
        if let Arg::Simple(bytes) = arg {
            eval.arg(bytes);
        }
    }
    Some(eval)
}

/// Whether `cmd` calls one of our scripts by its SHA-1.
pub fn is_script_call(cmd: &Cmd) -> bool {
    matches!(cmd.args_iter().next(), Some(Arg::Simple(name)) if name.eq_ignore_ascii_case(b"EVALSHA"))
}

/// Whether a reply says the server does not have the script.
pub fn is_missing_script(error: &RedisError) -> bool {
    error.code() == Some("NOSCRIPT")
}

/// What `SAVE_SCRIPT` (or the plain `SET` of an unconditional save) answered.
pub fn save_outcome(value: Value) -> StoreResult<SaveOutcome> {
    let Value::Array(items) = value else {
        // `SET` answers OK, `DEL` a count: an unconditional save.
        return Ok(SaveOutcome::Saved);
    };
    let mut items = items.into_iter();
    let code = items
        .next()
        .map(i64::from_redis_value)
        .transpose()
        .map_err(RedisError::from)?;
    Ok(match code {
        Some(1) => SaveOutcome::Saved,
        Some(0) => SaveOutcome::Missing,
        Some(2) => {
            let current = items
                .next()
                .map(String::from_redis_value)
                .transpose()
                .map_err(RedisError::from)?;
            SaveOutcome::Differs(current.unwrap_or_default())
        }
        _ => {
            return Err(StoreError::Redis(RedisError::from((
                redis::ErrorKind::UnexpectedReturnType,
                "unexpected answer to a conditional save",
            ))))
        }
    })
}

/// The digest a conditional save compares the stored JSON by (Redis's
/// `redis.sha1hex` computes the same for the stored value).
pub fn expected_digest(json: &str) -> String {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(json.as_bytes());
    let mut hex = String::with_capacity(40);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

/// The key of an owner's index (`userOf`): under the prefix, after a NUL, which
/// no session key has (IDs with a NUL are refused by the JS store), so `SCAN`
/// tells them apart and they cannot collide.
pub fn owner_key(prefix: &str, owner: &str) -> String {
    let mut key = String::with_capacity(prefix.len() + owner.len() + 7);
    key.push_str(prefix);
    key.push_str(OWNER_INDEX_MARK);
    key.push_str(owner);
    key
}

const OWNER_INDEX_MARK: &str = "\0owner\0";

/// Files a session ID in its owner's index (a sorted set), and keeps the index
/// alive at least as long as the session: KEYS[1] the index; ARGV the ID and
/// the session's TTL in seconds (empty: none).
const INDEX_SCRIPT: &str = r"
redis.call('ZADD', KEYS[1], 0, ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ARGV[2] == '' then
  redis.call('PERSIST', KEYS[1])
elseif ttl ~= -1 and ttl < tonumber(ARGV[2]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
";

pub fn key_for(prefix: &str, sid: &str) -> String {
    let mut key = String::with_capacity(prefix.len() + sid.len());
    key.push_str(prefix);
    key.push_str(sid);
    key
}

/// A SCAN pattern matching every key that starts with `prefix`, with the glob
/// characters in the prefix escaped (connect-redis passes them through).
pub fn scan_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 2);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('*');
    pattern
}

/// `host:port` of every primary in `CLUSTER NODES` output.
pub fn cluster_primaries(nodes: &str) -> Vec<(String, u16)> {
    nodes
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _id = fields.next()?;
            let address = fields.next()?;
            let flags = fields.next()?;
            let is_live_primary = flags.split(',').any(|f| f == "master")
                && !flags.split(',').any(|f| f == "fail" || f == "noaddr");
            if !is_live_primary {
                return None;
            }
            // ip:port@cport[,hostname]
            let host_port = address.split(['@', ',']).next()?;
            let (host, port) = host_port.rsplit_once(':')?;
            Some((host.to_string(), port.parse().ok()?))
        })
        .collect()
}

impl RedisStore {
    pub fn new(config: RedisConfig) -> Self {
        let config = std::sync::Arc::new(config);
        RedisStore {
            link: Link::new(std::sync::Arc::clone(&config)),
            config,
        }
    }

    pub fn prefix(&self) -> &str {
        &self.config.prefix
    }

    /// Drops the connection; later commands fail with `Closed`.
    pub async fn close(&self) {
        self.link.close();
    }

    /// Runs `cmd`, and once more with the script's text if the server does not
    /// have it: both within one command timeout from when there is a connection.
    async fn run<T: FromRedisValue>(&self, cmd: &Cmd) -> StoreResult<T> {
        let live = self.link.connection().await?;
        let deadline = tokio::time::Instant::now() + self.config.command_timeout;
        match self.run_on_link(&live, cmd, deadline).await {
            Err(StoreError::Redis(error)) if is_missing_script(&error) => {
                match with_script_text(cmd) {
                    Some(eval) => self.run_on_link(&live, &eval, deadline).await,
                    None => Err(StoreError::Redis(error)),
                }
            }
            outcome => outcome,
        }
    }

    async fn run_on_link<T: FromRedisValue>(
        &self,
        live: &Live,
        cmd: &Cmd,
        deadline: tokio::time::Instant,
    ) -> StoreResult<T> {
        let connection = live.connection.clone();
        let query = async move {
            match connection {
                Connection::Single(mut single) => cmd.query_async(&mut single).await,
                Connection::Cluster(mut cluster) => cmd.query_async(&mut cluster).await,
            }
        };
        let outcome = within(remaining(deadline), query).await;
        self.check(live, outcome)
    }

    /// Passes `outcome` on, forgetting a standalone connection it shows broken.
    fn check<T>(&self, live: &Live, outcome: StoreResult<T>) -> StoreResult<T> {
        if let Err(error) = &outcome {
            if matches!(live.connection, Connection::Single(_)) && breaks_connection(error) {
                self.link.forget(live.id);
            }
        }
        outcome
    }

    /// Runs one command for its raw reply (a script call falls back to its text).
    pub async fn value_of(&self, cmd: &Cmd) -> StoreResult<Value> {
        self.run(cmd).await
    }

    /// Runs one command for its effect.
    pub async fn execute(&self, cmd: &Cmd) -> StoreResult<()> {
        let _: Value = self.run(cmd).await?;
        Ok(())
    }

    /// Runs one command for its reply.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> StoreResult<T> {
        self.run(cmd).await
    }

    pub async fn ping(&self) -> StoreResult<()> {
        let _: String = self.run(&redis::cmd("PING")).await?;
        Ok(())
    }

    pub async fn get(&self, sid: &str) -> StoreResult<Option<String>> {
        self.run(&self.get_command(sid)).await
    }

    /// Writes the session with `ttl` seconds to live (`None`: no expiry); a TTL
    /// of zero or less deletes it, as connect-redis does.
    pub async fn set(&self, sid: &str, json: &str, ttl: Option<i64>) -> StoreResult<()> {
        let _: Value = self.run(&self.set_command(sid, json, ttl)).await?;
        Ok(())
    }

    pub async fn save(
        &self,
        sid: &str,
        json: &str,
        ttl: Option<i64>,
        condition: &SaveCondition<String>,
    ) -> StoreResult<SaveOutcome> {
        let value: Value = self
            .run(&self.save_command(sid, json, ttl, condition))
            .await?;
        save_outcome(value)
    }

    /// Moves the session `old` to `new` as `json`: in one script on a single
    /// server; on a cluster, where the two keys may live on different nodes,
    /// by creating `new` (if free) and then deleting `old`.
    pub async fn rotate(
        &self,
        old: &str,
        new: &str,
        json: &str,
        ttl: Option<i64>,
    ) -> StoreResult<SaveOutcome> {
        if self.pipelines() {
            let mut cmd = ROTATE.call(2);
            cmd.arg(key_for(self.prefix(), old))
                .arg(key_for(self.prefix(), new))
                .arg(json)
                .arg(ttl.map_or(String::new(), |seconds| seconds.to_string()));
            let value: Value = self.run(&cmd).await?;
            return save_outcome(value);
        }
        let exists: bool = self.run(&Cmd::exists(key_for(self.prefix(), old))).await?;
        if !exists {
            return Ok(SaveOutcome::Missing);
        }
        match self.save(new, json, ttl, &SaveCondition::IfAbsent).await? {
            SaveOutcome::Saved => {}
            other => return Ok(other),
        }
        self.destroy(old).await?;
        Ok(SaveOutcome::Saved)
    }

    pub async fn touch(&self, sid: &str, ttl: i64) -> StoreResult<()> {
        let _: Value = self.run(&self.touch_command(sid, ttl)).await?;
        Ok(())
    }

    pub async fn destroy(&self, sid: &str) -> StoreResult<()> {
        let _: Value = self.run(&self.destroy_command(sid)).await?;
        Ok(())
    }

    pub fn get_command(&self, sid: &str) -> Cmd {
        Cmd::get(key_for(self.prefix(), sid))
    }

    pub fn set_command(&self, sid: &str, json: &str, ttl: Option<i64>) -> Cmd {
        let key = key_for(self.prefix(), sid);
        match ttl {
            Some(seconds) if seconds <= 0 => Cmd::del(key),
            Some(seconds) => Cmd::set_ex(key, json, seconds.unsigned_abs()),
            None => Cmd::set(key, json),
        }
    }

    /// Writes the session only if the stored one meets `condition`, checked
    /// and written in one script; answered by `save_outcome`.
    pub fn save_command(
        &self,
        sid: &str,
        json: &str,
        ttl: Option<i64>,
        condition: &SaveCondition<String>,
    ) -> Cmd {
        let (kind, expected) = match condition {
            SaveCondition::Always => return self.set_command(sid, json, ttl),
            SaveCondition::IfAbsent => ("absent", ""),
            SaveCondition::IfPresent => ("present", ""),
            SaveCondition::IfUnchanged(sha1) => ("unchanged", sha1.as_str()),
        };
        let ttl = ttl.map_or(String::new(), |seconds| seconds.to_string());
        let mut cmd = SAVE.call(1);
        cmd.arg(key_for(self.prefix(), sid))
            .arg(kind)
            .arg(json)
            .arg(ttl)
            .arg(expected);
        cmd
    }

    pub fn touch_command(&self, sid: &str, ttl: i64) -> Cmd {
        Cmd::expire(key_for(self.prefix(), sid), ttl)
    }

    pub fn destroy_command(&self, sid: &str) -> Cmd {
        Cmd::del(key_for(self.prefix(), sid))
    }

    /// Files `sid` under `owner` (see `INDEX_SCRIPT`).
    pub fn index_command(&self, owner: &str, sid: &str, ttl: Option<i64>) -> Cmd {
        let mut cmd = INDEX.call(1);
        cmd.arg(owner_key(self.prefix(), owner))
            .arg(sid)
            .arg(ttl.map_or(String::new(), |seconds| seconds.max(1).to_string()));
        cmd
    }

    /// The IDs filed under `owner`.
    pub fn indexed_command(&self, owner: &str) -> Cmd {
        let mut cmd = redis::cmd("ZRANGE");
        cmd.arg(owner_key(self.prefix(), owner)).arg(0).arg(-1);
        cmd
    }

    /// Takes `sids` out of `owner`'s index.
    pub fn unindex_command(&self, owner: &str, sids: &[String]) -> Cmd {
        let mut cmd = redis::cmd("ZREM");
        cmd.arg(owner_key(self.prefix(), owner)).arg(sids);
        cmd
    }

    /// Whether `pipeline` can be used: a cluster routes each key on its own.
    pub fn pipelines(&self) -> bool {
        !matches!(self.config.target, Target::Cluster(_))
    }

    /// Sends `commands` in one pipeline on the single server: one write, one
    /// wait and one timer for all of them. Each gets its own reply, and a
    /// server error (`Value::ServerError`) fails only its own command.
    pub async fn pipeline(&self, commands: Vec<Cmd>) -> StoreResult<Vec<Value>> {
        let live = self.link.connection().await?;
        let Connection::Single(mut single) = live.connection.clone() else {
            return Err(StoreError::Unsupported("pipelines on a cluster"));
        };
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for command in commands {
            pipe.add_command(command);
        }
        let outcome = within(self.config.command_timeout, pipe.query_async(&mut single)).await;
        self.check(&live, outcome)
    }

    /// Every session key under the prefix (owner indexes left out).
    pub async fn keys(&self) -> StoreResult<Vec<String>> {
        let prefix_len = self.prefix().len();
        let mut keys = self.all_keys().await?;
        keys.retain(|key| !key[prefix_len..].starts_with(OWNER_INDEX_MARK));
        Ok(keys)
    }

    /// Every key under the prefix, by SCAN on the server or on every primary.
    async fn all_keys(&self) -> StoreResult<Vec<String>> {
        let pattern = scan_pattern(self.prefix());
        let mut keys = std::collections::BTreeSet::new();
        match self.link.connection().await?.connection {
            Connection::Single(_) => self.scan_node(&pattern, None, &mut keys).await?,
            Connection::Cluster(_) => {
                let nodes: String = self.run(redis::cmd("CLUSTER").arg("NODES")).await?;
                for (host, port) in cluster_primaries(&nodes) {
                    self.scan_node(&pattern, Some((host, port)), &mut keys)
                        .await?;
                }
            }
        }
        Ok(keys.into_iter().collect())
    }

    async fn scan_node(
        &self,
        pattern: &str,
        node: Option<(String, u16)>,
        keys: &mut std::collections::BTreeSet<String>,
    ) -> StoreResult<()> {
        let mut cursor: u64 = 0;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(self.config.scan_count);
            let (next, batch): (u64, Vec<String>) = match &node {
                None => self.run(&scan).await?,
                Some((host, port)) => self.run_on(&scan, host, *port).await?,
            };
            keys.extend(batch);
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    async fn run_on<T: FromRedisValue>(&self, cmd: &Cmd, host: &str, port: u16) -> StoreResult<T> {
        let Connection::Cluster(mut cluster) = self.link.connection().await?.connection else {
            return self.run(cmd).await;
        };
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
            host: host.to_string(),
            port,
        });
        let value = within(
            self.config.command_timeout,
            cluster.route_command(cmd.clone(), routing),
        )
        .await?;
        T::from_redis_value(value).map_err(|error| StoreError::Redis(error.into()))
    }

    /// `(sid, json)` of every session under the prefix.
    pub async fn all(&self) -> StoreResult<Vec<(String, String)>> {
        let prefix_len = self.prefix().len();
        let mut sessions = Vec::new();
        for key in self.keys().await? {
            // One GET per key: keys of a cluster live in different slots.
            let value: Option<String> = self.run(&Cmd::get(&key)).await?;
            if let Some(json) = value {
                sessions.push((key[prefix_len..].to_string(), json));
            }
        }
        Ok(sessions)
    }

    pub async fn clear(&self) -> StoreResult<()> {
        for key in self.all_keys().await? {
            let _: Value = self.run(&Cmd::del(key)).await?;
        }
        Ok(())
    }
}

/// `query`'s outcome, or `Timeout("command")` once `limit` has passed.
async fn within<T>(
    limit: std::time::Duration,
    query: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> StoreResult<T> {
    match tokio::time::timeout(limit, query).await {
        Ok(outcome) => outcome.map_err(StoreError::Redis),
        Err(_) => Err(StoreError::Timeout("command")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_follows_the_cookie_rounding_up() {
        assert_eq!(ttl_seconds(Some(10_500.0), 0.0, 86400), 11);
        assert_eq!(ttl_seconds(Some(10_000.0), 0.0, 86400), 10);
        assert_eq!(ttl_seconds(Some(1.0), 0.0, 86400), 1);
        assert_eq!(ttl_seconds(Some(0.0), 0.0, 86400), 0);
        assert_eq!(ttl_seconds(Some(-5000.0), 0.0, 86400), -5);
    }

    #[test]
    fn ttl_defaults_without_an_expiry() {
        assert_eq!(ttl_seconds(None, 0.0, 86400), 86400);
        assert_eq!(ttl_seconds(Some(f64::NAN), 0.0, 60), 60);
    }

    #[test]
    fn keys_are_prefix_and_id() {
        assert_eq!(key_for("sess:", "abc"), "sess:abc");
        assert_eq!(key_for("", "abc"), "abc");
    }

    #[test]
    fn scan_patterns_escape_glob_characters() {
        assert_eq!(scan_pattern("sess:"), "sess:*");
        assert_eq!(scan_pattern("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\*");
    }

    #[test]
    fn finds_live_primaries_in_cluster_nodes() {
        let nodes = "\
07c3 127.0.0.1:30004@40004 slave e7d1 0 1426238317239 4 connected
67ed 127.0.0.1:30002@40002 master - 0 1426238316232 2 connected 5461-10922
292f 127.0.0.1:30003@40003,node-3.local master - 0 1426238318243 3 connected 10923-16383
e7d1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460
dead 127.0.0.1:30009@40009 master,fail - 0 0 1 disconnected
";
        assert_eq!(
            cluster_primaries(nodes),
            vec![
                ("127.0.0.1".to_string(), 30002),
                ("127.0.0.1".to_string(), 30003),
                ("127.0.0.1".to_string(), 30001)
            ]
        );
    }
}
