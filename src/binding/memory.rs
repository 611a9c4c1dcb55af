//! The native memory store.

use napi::bindgen_prelude::{Either, External};
use napi::{Error, Result, Status};
use napi_derive::napi;

use std::sync::atomic::{AtomicU64, Ordering};

use super::{guarded, invalid_arg};
use crate::conditional_save::{SaveCondition, SaveOutcome};
use crate::memory::store::{release_freed_memory, to_millis, Expected, SessionMap};

/// The native memory store's data, held by JS as an `External` (lib/native.js
/// wraps the `memory*` functions in a class, and lib/memory.js gives that
/// express-session's callback API). Free functions instead of class methods:
/// napi-rs's class machinery costs more per call, and get, set and touch run on
/// every request.
type Store = External<SessionMap>;

/// `max`: the most sessions kept; the least recently written go first.
#[napi]
pub fn create_memory_store(max: Option<u32>) -> Result<Store> {
    guarded(|| Ok(External::new(SessionMap::new(max.map(|m| m as usize)))))
}

/// The session's JSON, or null. The version of the write that made it is kept
/// for `memoryLastVersion`, so that a load stays one call with one result.
#[napi]
pub fn memory_get(store: &mut Store, sid: String, now: f64) -> Result<Option<String>> {
    guarded(|| {
        let found = store.get_versioned(&sid, to_millis(now).unwrap_or(i64::MIN));
        let version = found.as_ref().map_or(0, |(_, version)| *version);
        LAST_VERSION.store(version, Ordering::Relaxed);
        Ok(found.map(|(json, _)| json))
    })
}

/// The version of the session the last `memoryGet` returned (0: none): what a
/// conditional save expects to find.
#[napi]
pub fn memory_last_version() -> f64 {
    LAST_VERSION.load(Ordering::Relaxed) as f64
}

// Only the JS thread calls into the memory store.
static LAST_VERSION: AtomicU64 = AtomicU64::new(0);

/// `expires`: when the session expires (ms since the epoch), `NaN` for never.
#[napi]
pub fn memory_set(store: &mut Store, sid: String, json: String, expires: f64) -> Result<()> {
    guarded(|| {
        store.set(&sid, &json, to_millis(expires));
        Ok(())
    })
}

/// A conditional set: `condition` 0 always, 1 if absent, 2 if present, 3 if
/// the stored session is `expected`: a version (`memoryLastVersion`) or a text
/// (lib/stores/protocol.js). Returns the new version when written, null when
/// there was no session to write over, else the stored JSON.
#[napi]
pub fn memory_save(
    store: &mut Store,
    sid: String,
    json: String,
    expires: f64,
    now: f64,
    condition: u32,
    expected: Option<Either<f64, String>>,
) -> Result<Option<Either<f64, String>>> {
    guarded(|| {
        let expected = match &expected {
            Some(Either::A(version)) => Some(Expected::Version(*version as u64)),
            Some(Either::B(text)) => Some(Expected::Text(text)),
            None => None,
        };
        let condition = SaveCondition::from_code(condition, expected)
            .ok_or_else(|| invalid_arg("unknown save condition"))?;
        let now = to_millis(now).unwrap_or(i64::MIN);
        let outcome = store.save(&sid, &json, to_millis(expires), now, condition);
        Ok(js_outcome(store, outcome))
    })
}

/// lib/stores/protocol.js's outcome: the new version, null, or the stored JSON.
fn js_outcome(store: &Store, outcome: SaveOutcome) -> Option<Either<f64, String>> {
    match outcome {
        SaveOutcome::Saved => Some(Either::A(store.last_version() as f64)),
        SaveOutcome::Missing => None,
        SaveOutcome::Differs(current) => Some(Either::B(current)),
    }
}

/// Moves a session to a new ID in one step: its new version when moved, null
/// when the old one is gone, else the JSON stored under the new ID.
#[napi]
pub fn memory_rotate(
    store: &mut Store,
    old_sid: String,
    new_sid: String,
    json: String,
    expires: f64,
    now: f64,
) -> Result<Option<Either<f64, String>>> {
    guarded(|| {
        let now = to_millis(now).unwrap_or(i64::MIN);
        let outcome = store.rotate(&old_sid, &new_sid, &json, to_millis(expires), now);
        Ok(js_outcome(store, outcome))
    })
}

#[napi]
pub fn memory_touch(
    store: &mut Store,
    sid: String,
    cookie_json: String,
    expires: f64,
    now: f64,
) -> Result<bool> {
    guarded(|| {
        Ok(store.touch(
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
pub fn memory_touch_expires(
    store: &mut Store,
    sid: String,
    expires: f64,
    now: f64,
) -> Result<bool> {
    guarded(|| {
        let Some(expires) = to_millis(expires) else {
            return Ok(false);
        };
        Ok(store.touch_expires(&sid, expires, to_millis(now).unwrap_or(i64::MIN)))
    })
}

#[napi]
pub fn memory_destroy(store: &mut Store, sid: String) -> Result<()> {
    guarded(|| {
        store.destroy(&sid);
        Ok(())
    })
}

#[napi]
pub fn memory_clear(store: &mut Store) -> Result<()> {
    guarded(|| {
        store.clear();
        Ok(())
    })
}

#[napi]
pub fn memory_length(store: &mut Store, now: f64) -> Result<u32> {
    guarded(|| {
        let count = store.len(to_millis(now).unwrap_or(i64::MIN));
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    })
}

/// Every live session as one JSON object text, `{ "<sid>": <session>, ... }`,
/// so that JS parses it in one `JSON.parse`.
#[napi]
pub fn memory_all_json(store: &mut Store, now: f64) -> Result<String> {
    guarded(|| {
        let mut out = String::from("{");
        for (index, (sid, json)) in store.all(to_millis(now).unwrap_or(i64::MIN)).enumerate() {
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
pub fn memory_sweep(store: &mut Store, now: f64, budget: u32) -> Result<u32> {
    guarded(|| {
        let dropped = store.sweep(to_millis(now).unwrap_or(i64::MIN), budget as usize);
        // Worth a trip to the allocator only after a large batch.
        if dropped >= 1000 {
            release_freed_memory();
        }
        Ok(u32::try_from(dropped).unwrap_or(u32::MAX))
    })
}
