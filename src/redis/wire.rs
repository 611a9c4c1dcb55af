//! The session commands of a standalone server, sent and answered on the JS
//! thread over a socket JS owns (libuv does the IO), so that a request's round
//! trip to Redis costs no thread hand-offs. This side encodes the commands,
//! keeps them in the order they were written, and matches each reply to its
//! command as the bytes arrive. What is not one command (scans, `rotate`), and
//! a script the server does not have yet, go to the IO thread
//! (`redis::dispatch`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use redis::{Cmd, RedisConnectionInfo, RedisError, Value};

use super::dispatch::{answer_of, Answer, Reply, ReplyKind, Request};
use super::store::{is_missing_script, is_script_call};

/// A command written (or about to be) whose reply has not arrived.
enum Pending {
    Command {
        seq: u32,
        kind: ReplyKind,
        /// Kept for a script call: a `NOSCRIPT` reply hands it to the IO thread.
        retry: Option<Request>,
        since: Instant,
    },
    /// One command of the handshake; `seq` is answered after the last one.
    Handshake {
        seq: u32,
        last: bool,
        /// `CLIENT SETINFO` may fail on an older server; `AUTH` and `SELECT` may not.
        must_succeed: bool,
        since: Instant,
    },
}

impl Pending {
    fn since(&self) -> Instant {
        match self {
            Pending::Command { since, .. } | Pending::Handshake { since, .. } => *since,
        }
    }
}

/// What a reply chunk produced.
#[derive(Default)]
pub struct Received {
    pub replies: Vec<Reply>,
    /// Script calls the server did not know: for the IO thread, which sends
    /// the script's text.
    pub retries: Vec<(u32, Request)>,
}

pub struct Wire {
    pending: VecDeque<Pending>,
    /// How many of `pending` are the store's commands (not the handshake's).
    commands: usize,
    /// The start of a reply whose end has not arrived yet.
    unread: Vec<u8>,
    handshake_error: Option<String>,
}

impl Default for Wire {
    fn default() -> Self {
        Self::new()
    }
}

impl Wire {
    pub fn new() -> Wire {
        Wire {
            pending: VecDeque::new(),
            commands: 0,
            unread: Vec::new(),
            handshake_error: None,
        }
    }

    /// Encodes `command`, the session command `command_for` made of `request`, into `out`.
    pub fn push(&mut self, seq: u32, request: Request, command: &Cmd, out: &mut Vec<u8>) {
        command.write_packed_command(out);
        self.commands += 1;
        self.pending.push_back(Pending::Command {
            seq,
            kind: ReplyKind::of(&request),
            retry: is_script_call(command).then_some(request),
            since: Instant::now(),
        });
    }

    /// Encodes the handshake of a new connection (user and password, database,
    /// our library's name), to be written before everything pushed since the
    /// last `fail_all`; `seq` is answered once the server has replied to all of
    /// it, with the first error if `AUTH` or `SELECT` failed.
    pub fn handshake(&mut self, seq: u32, settings: &RedisConnectionInfo) -> Vec<u8> {
        let mut commands = Vec::new();
        if let Some(password) = settings.password() {
            let mut auth = redis::cmd("AUTH");
            if let Some(username) = settings.username() {
                auth.arg(username);
            }
            auth.arg(password);
            commands.push((auth, true));
        }
        if settings.db() != 0 {
            commands.push((redis::cmd("SELECT").arg(settings.db()).clone(), true));
        }
        if let (Some(name), Some(version)) = (settings.lib_name(), settings.lib_ver()) {
            let mut info = redis::cmd("CLIENT");
            info.arg("SETINFO").arg("LIB-NAME").arg(name);
            commands.push((info, false));
            let mut info = redis::cmd("CLIENT");
            info.arg("SETINFO").arg("LIB-VER").arg(version);
            commands.push((info, false));
        }
        if commands.is_empty() {
            // Nothing to ask: PING stands in, so that the connection is proven.
            commands.push((redis::cmd("PING"), true));
        }
        let now = Instant::now();
        let last = commands.len() - 1;
        // In front of what waits for this connection, in reverse to keep their order.
        for (index, (_, must_succeed)) in commands.iter().enumerate().rev() {
            self.pending.push_front(Pending::Handshake {
                seq,
                last: index == last,
                must_succeed: *must_succeed,
                since: now,
            });
        }
        self.handshake_error = None;
        let mut out = Vec::new();
        for (command, _) in &commands {
            command.write_packed_command(&mut out);
        }
        out
    }

    /// Matches the replies in `chunk` (and what was left of the last one) to
    /// their commands. An error means the connection can no longer be read
    /// and must be dropped (`fail_all`).
    pub fn receive(&mut self, chunk: &[u8]) -> Result<Received, String> {
        let mut received = Received::default();
        let mut bytes = std::mem::take(&mut self.unread);
        bytes.extend_from_slice(chunk);
        let mut at = 0;
        while at < bytes.len() {
            let Some((value, end)) = read_value(&bytes, at, 0)? else {
                break;
            };
            at = end;
            let pending = self
                .pending
                .pop_front()
                .ok_or_else(|| "Redis sent a reply to no command".to_string())?;
            self.answer(pending, value, &mut received);
        }
        bytes.drain(..at);
        self.unread = bytes;
        Ok(received)
    }

    fn answer(&mut self, pending: Pending, value: Value, received: &mut Received) {
        match pending {
            Pending::Command {
                seq, kind, retry, ..
            } => {
                self.commands -= 1;
                let missing_script = matches!(&value, Value::ServerError(error)
                    if is_missing_script(&RedisError::from(error.clone())));
                if let (true, Some(request)) = (missing_script, retry) {
                    received.retries.push((seq, request));
                    return;
                }
                received.replies.push(Reply {
                    seq,
                    outcome: answer_of(kind, value),
                });
            }
            Pending::Handshake {
                seq,
                last,
                must_succeed,
                ..
            } => {
                if let Value::ServerError(error) = value {
                    if must_succeed && self.handshake_error.is_none() {
                        self.handshake_error = Some(RedisError::from(error).to_string());
                    }
                }
                if last {
                    let outcome = match self.handshake_error.take() {
                        Some(message) => Err(message),
                        None => Ok(Answer::Done),
                    };
                    received.replies.push(Reply { seq, outcome });
                }
            }
        }
    }

    /// The connection is gone: every command waiting on it fails with `message`.
    pub fn fail_all(&mut self, message: &str) -> Vec<Reply> {
        self.unread.clear();
        self.handshake_error = None;
        self.commands = 0;
        self.pending
            .drain(..)
            .filter_map(|pending| match pending {
                Pending::Command { seq, .. }
                | Pending::Handshake {
                    seq, last: true, ..
                } => Some(Reply {
                    seq,
                    outcome: Err(message.to_string()),
                }),
                Pending::Handshake { .. } => None,
            })
            .collect()
    }

    /// Restarts the clock of everything waiting: its bytes were written now
    /// (they waited for the connection, which has its own timeout).
    pub fn written(&mut self) {
        let now = Instant::now();
        for pending in &mut self.pending {
            match pending {
                Pending::Command { since, .. } | Pending::Handshake { since, .. } => *since = now,
            }
        }
    }

    /// How long the oldest command has waited; `None` when none waits.
    pub fn oldest_wait(&self) -> Option<Duration> {
        self.pending
            .front()
            .map(|pending| pending.since().elapsed())
    }

    /// The store's commands written (or about to be) and not yet answered.
    pub fn commands(&self) -> usize {
        self.commands
    }
}

/// The RESP2 value starting at `at` and where it ends; `None` when it has not
/// all arrived. Read here rather than by the `redis` crate's parser, which
/// zero-fills a read buffer of kilobytes for every value; errors go to it, so
/// that they carry its codes (`NOSCRIPT`, ...).
fn read_value(bytes: &[u8], at: usize, depth: usize) -> Result<Option<(Value, usize)>, String> {
    if depth > 8 {
        return Err("Redis sent a reply nested too deeply".to_string());
    }
    let Some(line_end) = bytes[at..]
        .windows(2)
        .position(|pair| pair == b"\r\n")
        .map(|offset| at + offset)
    else {
        return Ok(None);
    };
    let line = &bytes[at + 1..line_end];
    let after_line = line_end + 2;
    let value = match bytes[at] {
        b'+' if line == b"OK" => Value::Okay,
        b'+' => Value::SimpleString(String::from_utf8_lossy(line).into_owned()),
        b'-' => redis::parse_redis_value(&bytes[at..after_line])
            .map_err(|error| format!("Redis sent an error that does not parse: {error}"))?,
        b':' => Value::Int(length_of(line)?),
        b'$' => {
            let length = length_of(line)?;
            if length < 0 {
                return Ok(Some((Value::Nil, after_line)));
            }
            let end = after_line + length as usize;
            if end + 2 > bytes.len() {
                return Ok(None);
            }
            return Ok(Some((
                Value::BulkString(bytes[after_line..end].to_vec()),
                end + 2,
            )));
        }
        b'*' => {
            let count = length_of(line)?;
            if count < 0 {
                return Ok(Some((Value::Nil, after_line)));
            }
            let mut items = Vec::with_capacity(count.min(1024) as usize);
            let mut end = after_line;
            for _ in 0..count {
                if end >= bytes.len() {
                    return Ok(None);
                }
                match read_value(bytes, end, depth + 1)? {
                    Some((item, next)) => {
                        items.push(item);
                        end = next;
                    }
                    None => return Ok(None),
                }
            }
            return Ok(Some((Value::Array(items), end)));
        }
        other => {
            return Err(format!(
                "Redis sent a reply of unknown type {:?}",
                other as char
            ))
        }
    };
    Ok(Some((value, after_line)))
}

fn length_of(digits: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| "Redis sent a length that is not a number".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(sid: &str) -> (Request, Cmd) {
        let request = Request::Get { sid: sid.into() };
        let mut command = redis::cmd("GET");
        command.arg(sid);
        (request, command)
    }

    fn pushed(wire: &mut Wire, seqs: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        for &seq in seqs {
            let (request, command) = get(&format!("s{seq}"));
            wire.push(seq, request, &command, &mut out);
        }
        out
    }

    fn outcomes(received: &Received) -> Vec<(u32, Result<Answer, String>)> {
        received
            .replies
            .iter()
            .map(|reply| (reply.seq, reply.outcome.clone()))
            .collect()
    }

    #[test]
    fn replies_split_anywhere_reach_their_commands_in_order() {
        let replies = b"$5\r\nfirst\r\n$-1\r\n$6\r\nthird!\r\n";
        for split in 0..=replies.len() {
            let mut wire = Wire::new();
            let out = pushed(&mut wire, &[1, 2, 3]);
            assert_eq!(&out[..13], b"*2\r\n$3\r\nGET\r\n");
            let mut all = outcomes(&wire.receive(&replies[..split]).unwrap());
            all.extend(outcomes(&wire.receive(&replies[split..]).unwrap()));
            assert_eq!(
                all,
                vec![
                    (1, Ok(Answer::Text(Some("first".into())))),
                    (2, Ok(Answer::Text(None))),
                    (3, Ok(Answer::Text(Some("third!".into())))),
                ],
                "split at {split}"
            );
            assert_eq!(wire.oldest_wait(), None);
        }
    }

    #[test]
    fn a_server_error_fails_only_its_command() {
        let mut wire = Wire::new();
        pushed(&mut wire, &[1, 2]);
        let received = wire.receive(b"-WRONGTYPE nope\r\n$1\r\nx\r\n").unwrap();
        let all = outcomes(&received);
        assert_eq!(all[0].0, 1);
        assert!(all[0].1.as_ref().unwrap_err().contains("WRONGTYPE"));
        assert_eq!(all[1], (2, Ok(Answer::Text(Some("x".into())))));
    }

    #[test]
    fn the_handshake_goes_first_and_answers_once_with_its_first_error() {
        let mut wire = Wire::new();
        pushed(&mut wire, &[7]);
        let settings = redis::RedisConnectionInfo::default()
            .set_username("ann")
            .set_password("secret");
        let bytes = wire.handshake(0, &settings);
        assert!(bytes.starts_with(b"*3\r\n$4\r\nAUTH\r\n$3\r\nann\r\n$6\r\nsecret\r\n"));
        let received = wire
            .receive(b"-WRONGPASS invalid username-password pair\r\n")
            .unwrap();
        let all = outcomes(&received);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].0, 0);
        assert!(all[0].1.as_ref().unwrap_err().contains("WRONGPASS"));
        // The command behind it was never written: the connection is dropped.
        let failed = wire.fail_all("dropped");
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].seq, 7);
    }

    #[test]
    fn without_credentials_the_handshake_is_a_ping() {
        let mut wire = Wire::new();
        let bytes = wire.handshake(0, &redis::RedisConnectionInfo::default());
        assert_eq!(bytes, b"*1\r\n$4\r\nPING\r\n");
        let all = outcomes(&wire.receive(b"+PONG\r\n").unwrap());
        assert_eq!(all, vec![(0, Ok(Answer::Done))]);
    }

    #[test]
    fn a_reply_nobody_asked_for_or_that_does_not_read_is_an_error() {
        assert!(Wire::new().receive(b"+OK\r\n").is_err());
        let mut wire = Wire::new();
        pushed(&mut wire, &[1]);
        assert!(wire.receive(b"?what\r\n").is_err());
        let mut wire = Wire::new();
        pushed(&mut wire, &[1]);
        assert!(wire.receive(b"$x\r\n").is_err());
    }

    #[test]
    fn reads_each_kind_of_value_and_waits_for_the_rest_of_one() {
        let bulk = |text: &str| Value::BulkString(text.as_bytes().to_vec());
        let cases: Vec<(&[u8], Value)> = vec![
            (b"+OK\r\n", Value::Okay),
            (b"+PONG\r\n", Value::SimpleString("PONG".into())),
            (b":-42\r\n", Value::Int(-42)),
            (b"$-1\r\n", Value::Nil),
            (b"$0\r\n\r\n", bulk("")),
            (b"$4\r\na\r\nb\r\n", bulk("a\r\nb")),
            (b"*-1\r\n", Value::Nil),
            (
                b"*2\r\n*1\r\n$1\r\na\r\n:2\r\n",
                Value::Array(vec![Value::Array(vec![bulk("a")]), Value::Int(2)]),
            ),
        ];
        for (reply, expected) in cases {
            assert_eq!(
                read_value(reply, 0, 0).unwrap(),
                Some((expected, reply.len()))
            );
            for end in 1..reply.len() {
                assert_eq!(read_value(&reply[..end], 0, 0).unwrap(), None, "{end}");
            }
        }
        let Some((Value::ServerError(error), 14)) = read_value(b"-NOSCRIPT no\r\n", 0, 0).unwrap()
        else {
            panic!("an error reply reads as a server error");
        };
        assert!(is_missing_script(&RedisError::from(error)));
    }
}
