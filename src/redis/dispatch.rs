//! The Redis store's IO thread. Node hands it commands in batches (everything
//! one event-loop turn asked for) and it hands replies back the same way, so a
//! busy server pays the two thread wake-ups once per batch, not once per
//! command. Session reads and writes of a batch go to Redis as one pipeline.
//! The thread runs a current-thread tokio runtime: the commands, the
//! connection's driver and its timers share one thread, with no further
//! hand-offs between tokio workers. The thread ends when the `Dispatcher` is
//! dropped.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::mpsc;

use redis::{Cmd, FromRedisValue, RedisError, Value};

use super::store::{is_missing_script, is_script_call, save_outcome, RedisStore, StoreError};
use crate::conditional_save::{SaveCondition, SaveOutcome};

/// One command, in the store's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Get {
        sid: String,
    },
    /// `ttl`: seconds to live; `None` writes without an expiry.
    Set {
        sid: String,
        json: String,
        ttl: Option<i64>,
    },
    /// A `Set` only if the stored session meets `condition`.
    Save {
        sid: String,
        json: String,
        ttl: Option<i64>,
        condition: SaveCondition<String>,
    },
    /// The session `old` moved to `sid` as `json`.
    Rotate {
        old: String,
        sid: String,
        json: String,
        ttl: Option<i64>,
    },
    Touch {
        sid: String,
        ttl: i64,
    },
    Destroy {
        sid: String,
    },
    /// Files `sid` in `owner`'s index, kept alive for `ttl` seconds at least.
    Index {
        owner: String,
        sid: String,
        ttl: Option<i64>,
    },
    /// The IDs filed under `owner`.
    Indexed {
        owner: String,
    },
    Unindex {
        owner: String,
        sids: Vec<String>,
    },
    /// The IDs of every stored session.
    Ids,
    /// Every stored session as `id, json, id, json, ...`.
    All,
    Clear,
    Ping,
    Close,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Done,
    Text(Option<String>),
    Texts(Vec<String>),
    Saved(SaveOutcome),
}

/// How a pipelined command's reply reads.
#[derive(Clone, Copy)]
pub(crate) enum ReplyKind {
    Done,
    Text,
    Texts,
    Save,
}

impl ReplyKind {
    pub(crate) fn of(request: &Request) -> ReplyKind {
        match request {
            Request::Get { .. } => ReplyKind::Text,
            Request::Save { .. } | Request::Rotate { .. } => ReplyKind::Save,
            Request::Indexed { .. } => ReplyKind::Texts,
            _ => ReplyKind::Done,
        }
    }
}

/// The outcome of the command numbered `seq`; errors arrive as their message.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub seq: u32,
    pub outcome: Result<Answer, String>,
}

pub type Batch = Vec<(u32, Request)>;

pub struct Dispatcher {
    sender: mpsc::UnboundedSender<Batch>,
}

impl Dispatcher {
    /// Starts the IO thread. `deliver` is called on it once per finished
    /// command, in completion order; every submitted command gets exactly one
    /// reply while the dispatcher lives (a panic inside a command becomes an
    /// error reply).
    pub fn start<D>(store: Arc<RedisStore>, deliver: D) -> std::io::Result<Dispatcher>
    where
        D: Fn(Reply) + Send + Sync + 'static,
    {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Batch>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let deliver = Arc::new(deliver);
        std::thread::Builder::new()
            .name("express-session-rs-redis".into())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(batch) = receiver.recv().await {
                        dispatch(&store, &deliver, batch);
                    }
                });
            })?;
        Ok(Dispatcher { sender })
    }

    /// Queues a batch; gives it back when the IO thread is gone.
    pub fn submit(&self, batch: Batch) -> Result<(), Batch> {
        self.sender.send(batch).map_err(|unsent| unsent.0)
    }
}

/// Session reads and writes go to the server as one pipeline; anything else
/// (and everything on a cluster) as commands of their own.
fn dispatch<D>(store: &Arc<RedisStore>, deliver: &Arc<D>, batch: Batch)
where
    D: Fn(Reply) + Send + Sync + 'static,
{
    // (seq, how its reply reads, the command again if it calls a script) for
    // each pipelined command, in order.
    let mut pipelined = Vec::new();
    let mut commands = Vec::new();
    let mut single = Vec::new();
    for (seq, request) in batch {
        match store
            .pipelines()
            .then(|| command_for(store, &request))
            .flatten()
        {
            Some(command) => {
                let script = is_script_call(&command).then(|| command.clone());
                pipelined.push((seq, ReplyKind::of(&request), script));
                commands.push(command);
            }
            None => single.push((seq, request)),
        }
    }
    // The pipeline starts first, so a `close` in the same batch comes after it.
    if !pipelined.is_empty() {
        spawn_pipeline(Arc::clone(store), Arc::clone(deliver), pipelined, commands);
    }
    for (seq, request) in single {
        let store = Arc::clone(store);
        let deliver = Arc::clone(deliver);
        tokio::spawn(async move {
            let outcome = PanicAsError(Box::pin(execute(store, request))).await;
            deliver(Reply { seq, outcome });
        });
    }
}

/// Sends `commands` as one pipeline and answers each of `pipelined`
/// (seq, how its reply reads, the script call) in order. A script the server
/// does not have yet is sent again with its text.
fn spawn_pipeline<D>(
    store: Arc<RedisStore>,
    deliver: Arc<D>,
    pipelined: Vec<(u32, ReplyKind, Option<Cmd>)>,
    commands: Vec<Cmd>,
) where
    D: Fn(Reply) + Send + Sync + 'static,
{
    tokio::spawn(async move {
        let sender = Arc::clone(&store);
        let outcome = PanicAsError(Box::pin(async move {
            sender
                .pipeline(commands)
                .await
                .map_err(|error| error.to_string())
        }))
        .await;
        let mut values = match outcome {
            Ok(values) => values.into_iter(),
            Err(message) => {
                for (seq, _, _) in pipelined {
                    deliver(Reply {
                        seq,
                        outcome: Err(message.clone()),
                    });
                }
                return;
            }
        };
        for (seq, kind, script) in pipelined {
            let outcome = match (values.next(), script) {
                (Some(Value::ServerError(error)), Some(call))
                    if is_missing_script(&RedisError::from(error.clone())) =>
                {
                    let store = Arc::clone(&store);
                    PanicAsError(Box::pin(async move {
                        let value = store.value_of(&call).await;
                        value
                            .map_err(|error| error.to_string())
                            .and_then(|value| answer_of(kind, value))
                    }))
                    .await
                }
                (Some(value), _) => answer_of(kind, value),
                (None, _) => Err("Redis sent fewer replies than commands".to_string()),
            };
            deliver(Reply { seq, outcome });
        }
    });
}

/// The Redis command of a session read or write; `None` for the others.
pub(crate) fn command_for(store: &RedisStore, request: &Request) -> Option<Cmd> {
    Some(match request {
        Request::Get { sid } => store.get_command(sid),
        Request::Set { sid, json, ttl } => store.set_command(sid, json, *ttl),
        Request::Save {
            sid,
            json,
            ttl,
            condition,
        } => store.save_command(sid, json, *ttl, condition),
        Request::Touch { sid, ttl } => store.touch_command(sid, *ttl),
        Request::Destroy { sid } => store.destroy_command(sid),
        Request::Index { owner, sid, ttl } => store.index_command(owner, sid, *ttl),
        Request::Indexed { owner } => store.indexed_command(owner),
        Request::Unindex { owner, sids } => store.unindex_command(owner, sids),
        _ => return None,
    })
}

/// A pipelined command's reply, as `execute` would have answered it.
pub(crate) fn answer_of(kind: ReplyKind, value: Value) -> Result<Answer, String> {
    if let Value::ServerError(error) = value {
        return Err(StoreError::Redis(error.into()).to_string());
    }
    match kind {
        ReplyKind::Done => Ok(Answer::Done),
        ReplyKind::Text => Option::<String>::from_redis_value(value)
            .map(Answer::Text)
            .map_err(|error| StoreError::Redis(error.into()).to_string()),
        ReplyKind::Texts => Vec::<String>::from_redis_value(value)
            .map(Answer::Texts)
            .map_err(|error| StoreError::Redis(error.into()).to_string()),
        ReplyKind::Save => save_outcome(value)
            .map(Answer::Saved)
            .map_err(|error| error.to_string()),
    }
}

async fn execute(store: Arc<RedisStore>, request: Request) -> Result<Answer, String> {
    run_command(&store, request)
        .await
        .map_err(|error| error.to_string())
}

async fn run_command(store: &RedisStore, request: Request) -> Result<Answer, StoreError> {
    let answer = match request {
        Request::Get { sid } => Answer::Text(store.get(&sid).await?),
        Request::Set { sid, json, ttl } => {
            store.set(&sid, &json, ttl).await?;
            Answer::Done
        }
        Request::Save {
            sid,
            json,
            ttl,
            condition,
        } => Answer::Saved(store.save(&sid, &json, ttl, &condition).await?),
        Request::Rotate {
            old,
            sid,
            json,
            ttl,
        } => Answer::Saved(store.rotate(&old, &sid, &json, ttl).await?),
        Request::Touch { sid, ttl } => {
            store.touch(&sid, ttl).await?;
            Answer::Done
        }
        Request::Destroy { sid } => {
            store.destroy(&sid).await?;
            Answer::Done
        }
        Request::Index { owner, sid, ttl } => {
            store
                .execute(&store.index_command(&owner, &sid, ttl))
                .await?;
            Answer::Done
        }
        Request::Indexed { owner } => {
            Answer::Texts(store.query(&store.indexed_command(&owner)).await?)
        }
        Request::Unindex { owner, sids } => {
            store.execute(&store.unindex_command(&owner, &sids)).await?;
            Answer::Done
        }
        Request::Ids => {
            let prefix_len = store.prefix().len();
            let keys = store.keys().await?;
            Answer::Texts(
                keys.into_iter()
                    .map(|key| key[prefix_len..].to_string())
                    .collect(),
            )
        }
        Request::All => Answer::Texts(
            store
                .all()
                .await?
                .into_iter()
                .flat_map(|(sid, json)| [sid, json])
                .collect(),
        ),
        Request::Clear => {
            store.clear().await?;
            Answer::Done
        }
        Request::Ping => {
            store.ping().await?;
            Answer::Done
        }
        Request::Close => {
            store.close().await;
            Answer::Done
        }
    };
    Ok(answer)
}

/// A command whose panic, while it is polled, becomes its error reply, so
/// that its caller is never left waiting.
struct PanicAsError<T>(Pin<Box<dyn Future<Output = Result<T, String>> + Send>>);

impl<T> Future for PanicAsError<T> {
    type Output = Result<T, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let command = &mut self.0;
        catch_unwind(AssertUnwindSafe(|| command.as_mut().poll(cx))).unwrap_or_else(|payload| {
            Poll::Ready(Err(format!(
                "express-session-rs internal error: {}",
                crate::panic_detail(payload.as_ref())
            )))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::config::{endpoint, Credentials, RedisConfig, Target};
    use std::sync::mpsc as std_mpsc;
    use std::time::Duration;

    fn store(prefix: &str, url: &str) -> RedisStore {
        RedisStore::new(RedisConfig {
            target: Target::Server(endpoint(url, &Credentials::default(), None).unwrap()),
            prefix: prefix.to_string(),
            scan_count: 100,
            connect_timeout: Duration::from_millis(500),
            command_timeout: Duration::from_millis(500),
        })
    }

    fn run(
        dispatcher: &Dispatcher,
        replies: &std_mpsc::Receiver<Reply>,
        batch: Batch,
    ) -> Vec<Reply> {
        let count = batch.len();
        dispatcher.submit(batch).expect("IO thread running");
        let mut got: Vec<Reply> = (0..count)
            .map(|_| {
                replies
                    .recv_timeout(Duration::from_secs(5))
                    .expect("a reply")
            })
            .collect();
        got.sort_by_key(|reply| reply.seq);
        got
    }

    fn started(prefix: &str, url: &str) -> (Dispatcher, std_mpsc::Receiver<Reply>) {
        let (tx, rx) = std_mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let dispatcher = Dispatcher::start(Arc::new(store(prefix, url)), move |reply| {
            tx.lock().unwrap().send(reply).unwrap();
        })
        .unwrap();
        (dispatcher, rx)
    }

    // Needs the Redis on 127.0.0.1:6379 that the project's tests run against.
    #[test]
    fn conditional_saves_and_rotation_check_what_is_stored() {
        use crate::redis::store::expected_digest;
        let prefix = format!("esrs-dispatch-save:{}:", std::process::id());
        let (dispatcher, rx) = started(&prefix, "redis://127.0.0.1:6379");
        let save = |seq: u32, sid: &str, json: &str, condition| {
            (
                seq,
                Request::Save {
                    sid: sid.into(),
                    json: json.into(),
                    ttl: Some(60),
                    condition,
                },
            )
        };
        let outcome = |replies: Vec<Reply>| -> Vec<Result<Answer, String>> {
            replies.into_iter().map(|reply| reply.outcome).collect()
        };
        let saved = Ok(Answer::Saved(SaveOutcome::Saved));
        let missing = Ok(Answer::Saved(SaveOutcome::Missing));
        let differs = |json: &str| Ok(Answer::Saved(SaveOutcome::Differs(json.into())));

        // In one pipeline, in order: each script sees what the one before wrote.
        let replies = run(
            &dispatcher,
            &rx,
            vec![
                save(1, "a", "v1", SaveCondition::IfPresent),
                save(2, "a", "v1", SaveCondition::IfAbsent),
                save(3, "a", "v2", SaveCondition::IfAbsent),
                save(
                    4,
                    "a",
                    "v2",
                    SaveCondition::IfUnchanged(expected_digest("v0")),
                ),
                save(
                    5,
                    "a",
                    "v2",
                    SaveCondition::IfUnchanged(expected_digest("v1")),
                ),
                (6, Request::Get { sid: "a".into() }),
            ],
        );
        assert_eq!(
            outcome(replies),
            vec![
                missing.clone(),
                saved.clone(),
                differs("v1"),
                differs("v1"),
                saved.clone(),
                Ok(Answer::Text(Some("v2".into())))
            ]
        );

        // A server without the script (restarted, or flushed) gets its text.
        let flushed = std::process::Command::new("redis-cli")
            .args(["-p", "6379", "SCRIPT", "FLUSH"])
            .status()
            .expect("redis-cli");
        assert!(flushed.success());
        let replies = run(
            &dispatcher,
            &rx,
            vec![save(
                51,
                "a",
                "v2b",
                SaveCondition::IfUnchanged(expected_digest("v2")),
            )],
        );
        assert_eq!(outcome(replies), vec![saved.clone()]);
        let replies = run(
            &dispatcher,
            &rx,
            vec![save(
                52,
                "a",
                "v2",
                SaveCondition::IfUnchanged(expected_digest("v2b")),
            )],
        );
        assert_eq!(outcome(replies), vec![saved.clone()]);

        let rotate = |seq: u32, old: &str, sid: &str| {
            (
                seq,
                Request::Rotate {
                    old: old.into(),
                    sid: sid.into(),
                    json: "v3".into(),
                    ttl: Some(60),
                },
            )
        };
        let replies = run(&dispatcher, &rx, vec![rotate(7, "gone", "b")]);
        assert_eq!(outcome(replies), vec![missing]);
        let replies = run(&dispatcher, &rx, vec![rotate(8, "a", "b")]);
        assert_eq!(outcome(replies), vec![saved]);
        let replies = run(
            &dispatcher,
            &rx,
            vec![
                (9, Request::Get { sid: "a".into() }),
                (10, Request::Get { sid: "b".into() }),
                (11, Request::Destroy { sid: "b".into() }),
            ],
        );
        assert_eq!(
            outcome(replies),
            vec![
                Ok(Answer::Text(None)),
                Ok(Answer::Text(Some("v3".into()))),
                Ok(Answer::Done)
            ]
        );
    }

    // Needs the Redis on 127.0.0.1:6379 that the project's tests run against.
    #[test]
    fn an_owner_index_lists_what_was_filed_and_stays_out_of_the_ids() {
        let prefix = format!("esrs-dispatch-owner:{}:", std::process::id());
        let (dispatcher, rx) = started(&prefix, "redis://127.0.0.1:6379");
        let index = |seq: u32, sid: &str| {
            (
                seq,
                Request::Index {
                    owner: "alice".into(),
                    sid: sid.into(),
                    ttl: Some(60),
                },
            )
        };
        let set = |seq: u32, sid: &str| {
            (
                seq,
                Request::Set {
                    sid: sid.into(),
                    json: "{}".into(),
                    ttl: Some(60),
                },
            )
        };
        run(
            &dispatcher,
            &rx,
            vec![set(1, "a"), index(2, "a"), set(3, "b"), index(4, "b")],
        );
        let listed = run(
            &dispatcher,
            &rx,
            vec![
                (
                    5,
                    Request::Indexed {
                        owner: "alice".into(),
                    },
                ),
                (6, Request::Ids),
            ],
        );
        assert_eq!(
            listed[0].outcome,
            Ok(Answer::Texts(vec!["a".into(), "b".into()]))
        );
        let Ok(Answer::Texts(mut ids)) = listed[1].outcome.clone() else {
            panic!("{listed:?}")
        };
        ids.sort();
        assert_eq!(
            ids,
            vec!["a".to_string(), "b".to_string()],
            "the index is no session"
        );
        run(
            &dispatcher,
            &rx,
            vec![(
                7,
                Request::Unindex {
                    owner: "alice".into(),
                    sids: vec!["a".into()],
                },
            )],
        );
        let listed = run(
            &dispatcher,
            &rx,
            vec![(
                8,
                Request::Indexed {
                    owner: "alice".into(),
                },
            )],
        );
        assert_eq!(listed[0].outcome, Ok(Answer::Texts(vec!["b".into()])));
        run(&dispatcher, &rx, vec![(9, Request::Clear)]);
        let listed = run(
            &dispatcher,
            &rx,
            vec![(
                10,
                Request::Indexed {
                    owner: "alice".into(),
                },
            )],
        );
        assert_eq!(
            listed[0].outcome,
            Ok(Answer::Texts(vec![])),
            "clear takes the index too"
        );
    }

    // Needs the Redis on 127.0.0.1:6379 that the project's tests run against.
    #[test]
    fn a_batch_of_commands_gets_one_reply_each() {
        let prefix = format!("esrs-dispatch:{}:", std::process::id());
        let (dispatcher, rx) = started(&prefix, "redis://127.0.0.1:6379");
        let sid = |n: u32| format!("s{n}");
        let mut writes: Batch = (0..50)
            .map(|n| {
                (
                    n,
                    Request::Set {
                        sid: sid(n),
                        json: format!("{{\"n\":{n}}}"),
                        ttl: Some(60),
                    },
                )
            })
            .collect();
        writes.push((50, Request::Ping));
        let replies = run(&dispatcher, &rx, writes);
        assert!(replies
            .iter()
            .all(|reply| reply.outcome == Ok(Answer::Done)));

        let reads: Batch = (0..50)
            .map(|n| (100 + n, Request::Get { sid: sid(n) }))
            .collect();
        for (n, reply) in run(&dispatcher, &rx, reads).into_iter().enumerate() {
            assert_eq!(reply.seq, 100 + n as u32);
            assert_eq!(
                reply.outcome,
                Ok(Answer::Text(Some(format!("{{\"n\":{n}}}"))))
            );
        }

        let listed = run(&dispatcher, &rx, vec![(200, Request::Ids)]);
        let Ok(Answer::Texts(mut ids)) = listed[0].outcome.clone() else {
            panic!("{listed:?}")
        };
        ids.sort();
        let mut expected: Vec<String> = (0..50).map(sid).collect();
        expected.sort();
        assert_eq!(ids, expected);

        let cleared = run(
            &dispatcher,
            &rx,
            vec![(300, Request::Clear), (301, Request::Get { sid: sid(7) })],
        );
        assert_eq!(cleared[0].outcome, Ok(Answer::Done));
        let after = run(
            &dispatcher,
            &rx,
            vec![(302, Request::Get { sid: sid(7) }), (303, Request::Close)],
        );
        assert_eq!(after[0].outcome, Ok(Answer::Text(None)));
        let closed = run(&dispatcher, &rx, vec![(304, Request::Get { sid: sid(1) })]);
        assert_eq!(
            closed[0].outcome,
            Err("the Redis store was closed".to_string())
        );
    }

    #[test]
    fn a_server_error_in_a_pipeline_fails_only_its_own_command() {
        let prefix = format!("esrs-dispatch-err:{}:", std::process::id());
        let url = "redis://127.0.0.1:6379";
        let mut raw = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _: () = redis::cmd("HSET")
            .arg(format!("{prefix}hash"))
            .arg("f")
            .arg("v")
            .query(&mut raw)
            .unwrap();
        let (dispatcher, rx) = started(&prefix, url);
        let replies = run(
            &dispatcher,
            &rx,
            vec![
                (
                    1,
                    Request::Set {
                        sid: "ok".into(),
                        json: "{}".into(),
                        ttl: Some(60),
                    },
                ),
                (2, Request::Get { sid: "hash".into() }),
                (3, Request::Get { sid: "ok".into() }),
                (4, Request::Destroy { sid: "hash".into() }),
                (5, Request::Destroy { sid: "ok".into() }),
            ],
        );
        assert_eq!(replies[0].outcome, Ok(Answer::Done));
        let error = replies[1]
            .outcome
            .clone()
            .expect_err("a hash is not a session");
        assert!(error.contains("WRONGTYPE"), "{error}");
        assert_eq!(replies[2].outcome, Ok(Answer::Text(Some("{}".into()))));
        assert_eq!(replies[3].outcome, Ok(Answer::Done));
        assert_eq!(replies[4].outcome, Ok(Answer::Done));
    }

    #[test]
    fn an_unreachable_server_answers_every_command_with_an_error() {
        // Port 1 on loopback: connection refused at once.
        let (dispatcher, rx) = started("x:", "redis://127.0.0.1:1");
        let batch: Batch = (0..5)
            .map(|n| (n, Request::Get { sid: n.to_string() }))
            .collect();
        for reply in run(&dispatcher, &rx, batch) {
            let error = reply.outcome.expect_err("no server");
            assert!(error.contains("Redis"), "{error}");
        }
    }

    #[test]
    fn submitting_after_the_thread_ended_gives_the_batch_back() {
        let (sender, receiver) = mpsc::unbounded_channel::<Batch>();
        drop(receiver);
        let orphan = Dispatcher { sender };
        let returned = orphan.submit(vec![(9, Request::Ids)]).unwrap_err();
        assert_eq!(returned, vec![(9, Request::Ids)]);
    }
}
