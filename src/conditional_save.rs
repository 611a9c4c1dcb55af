//! Conditional saves, which keep concurrent requests from undoing each other
//! (lib/middleware/save.js): a session is created only where none is, and
//! written over only while the store still holds what the writer loaded.

/// What a save requires of the stored session. `E` says how the expected
/// session is given: its text (memory), or a digest of it (Redis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveCondition<E> {
    Always,
    IfAbsent,
    IfPresent,
    IfUnchanged(E),
}

impl<E> SaveCondition<E> {
    /// The condition numbered as lib/stores/protocol.js numbers them.
    pub fn from_code(code: u32, expected: Option<E>) -> Option<Self> {
        Some(match (code, expected) {
            (0, _) => SaveCondition::Always,
            (1, _) => SaveCondition::IfAbsent,
            (2, _) => SaveCondition::IfPresent,
            (3, Some(expected)) => SaveCondition::IfUnchanged(expected),
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved,
    /// No live session where one was required.
    Missing,
    /// The stored session did not meet the condition; its JSON now.
    Differs(String),
}
