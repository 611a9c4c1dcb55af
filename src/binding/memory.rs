//! The native memory store.

use napi::{Error, Result, Status};
use napi_derive::napi;

use super::guarded;
use crate::memory_store::{release_freed_memory, to_millis, SessionMap};

/// The native memory store's data. JS wraps it in the `MemoryStore` class, which
/// gives it express-session's callback API.
#[napi]
pub struct NativeMemoryStore {
    sessions: SessionMap,
}

#[napi]
impl NativeMemoryStore {
    /// `max`: the most sessions kept; the least recently written go first.
    #[napi(constructor)]
    pub fn new(max: Option<u32>) -> Result<Self> {
        guarded(|| {
            Ok(NativeMemoryStore {
                sessions: SessionMap::new(max.map(|m| m as usize)),
            })
        })
    }

    #[napi]
    pub fn get(&mut self, sid: String, now: f64) -> Result<Option<String>> {
        guarded(|| Ok(self.sessions.get(&sid, to_millis(now).unwrap_or(i64::MIN))))
    }

    /// `expires`: when the session expires (ms since the epoch), `NaN` for never.
    #[napi]
    pub fn set(&mut self, sid: String, json: String, expires: f64) -> Result<()> {
        guarded(|| {
            self.sessions.set(&sid, &json, to_millis(expires));
            Ok(())
        })
    }

    #[napi]
    pub fn touch(
        &mut self,
        sid: String,
        cookie_json: String,
        expires: f64,
        now: f64,
    ) -> Result<bool> {
        guarded(|| {
            Ok(self.sessions.touch(
                &sid,
                &cookie_json,
                to_millis(expires),
                to_millis(now).unwrap_or(i64::MIN),
            ))
        })
    }

    /// A touch that changes nothing in the cookie but `expires` (ms since the
    /// epoch): patched in place. `false` means do a full `touch` instead.
    #[napi]
    pub fn touch_expires(&mut self, sid: String, expires: f64, now: f64) -> Result<bool> {
        guarded(|| {
            let Some(expires) = to_millis(expires) else {
                return Ok(false);
            };
            Ok(self
                .sessions
                .touch_expires(&sid, expires, to_millis(now).unwrap_or(i64::MIN)))
        })
    }

    #[napi]
    pub fn destroy(&mut self, sid: String) -> Result<()> {
        guarded(|| {
            self.sessions.destroy(&sid);
            Ok(())
        })
    }

    #[napi]
    pub fn clear(&mut self) -> Result<()> {
        guarded(|| {
            self.sessions.clear();
            Ok(())
        })
    }

    #[napi]
    pub fn length(&mut self, now: f64) -> Result<u32> {
        guarded(|| {
            let count = self.sessions.len(to_millis(now).unwrap_or(i64::MIN));
            Ok(u32::try_from(count).unwrap_or(u32::MAX))
        })
    }

    /// Every live session as one JSON object text, `{ "<sid>": <session>, ... }`,
    /// so that JS parses it in one `JSON.parse`.
    #[napi]
    pub fn all_json(&mut self, now: f64) -> Result<String> {
        guarded(|| {
            let mut out = String::from("{");
            for (index, (sid, json)) in self
                .sessions
                .all(to_millis(now).unwrap_or(i64::MIN))
                .enumerate()
            {
                if index > 0 {
                    out.push(',');
                }
                // IDs went in as strings, so they come out as valid UTF-8.
                let sid = String::from_utf8_lossy(sid);
                out.push_str(
                    &serde_json::to_string(&sid)
                        .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?,
                );
                out.push(':');
                out.push_str(&json);
            }
            out.push('}');
            Ok(out)
        })
    }

    /// Drops at most `budget` expired sessions; returns how many went.
    #[napi]
    pub fn sweep(&mut self, now: f64, budget: u32) -> Result<u32> {
        guarded(|| {
            let dropped = self
                .sessions
                .sweep(to_millis(now).unwrap_or(i64::MIN), budget as usize);
            // Worth a trip to the allocator only after a large batch.
            if dropped >= 1000 {
                release_freed_memory();
            }
            Ok(u32::try_from(dropped).unwrap_or(u32::MAX))
        })
    }
}
