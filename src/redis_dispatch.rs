//! The Redis store's IO thread. Node hands it commands in batches (everything
//! one event-loop turn asked for) and it hands replies back the same way, so a
//! busy server pays the two thread wake-ups once per batch, not once per
//! command. The thread runs a current-thread tokio runtime: the commands, the
//! connection's driver and its timers share one thread, with no further
//! hand-offs between tokio workers. The thread ends when the `Dispatcher` is
//! dropped.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::mpsc;

use crate::redis_store::{RedisStore, StoreError};

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
    Touch {
        sid: String,
        ttl: i64,
    },
    Destroy {
        sid: String,
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
    pub fn start<D>(store: RedisStore, deliver: D) -> std::io::Result<Dispatcher>
    where
        D: Fn(Reply) + Send + Sync + 'static,
    {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Batch>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let store = Arc::new(store);
        let deliver = Arc::new(deliver);
        std::thread::Builder::new()
            .name("express-session-rs-redis".into())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(batch) = receiver.recv().await {
                        for (seq, request) in batch {
                            let store = Arc::clone(&store);
                            let deliver = Arc::clone(&deliver);
                            tokio::spawn(async move {
                                let outcome = Unwinding(Box::pin(execute(store, request))).await;
                                deliver(Reply { seq, outcome });
                            });
                        }
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
        Request::Touch { sid, ttl } => {
            store.touch(&sid, ttl).await?;
            Answer::Done
        }
        Request::Destroy { sid } => {
            store.destroy(&sid).await?;
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

/// Turns a panic while polling the command into an error reply, so that its
/// caller is never left waiting.
struct Unwinding(Pin<Box<dyn Future<Output = Result<Answer, String>> + Send>>);

impl Future for Unwinding {
    type Output = Result<Answer, String>;

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
    use crate::redis_store::RedisConfig;
    use std::sync::mpsc as std_mpsc;
    use std::time::Duration;

    fn store(prefix: &str, url: &str) -> RedisStore {
        RedisStore::new(RedisConfig {
            url: url.to_string(),
            cluster: Vec::new(),
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
        let dispatcher = Dispatcher::start(store(prefix, url), move |reply| {
            tx.lock().unwrap().send(reply).unwrap();
        })
        .unwrap();
        (dispatcher, rx)
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
    fn an_unreachable_server_answers_every_command_with_an_error() {
        // Port 1 on loopback: connection refused at once.
        let (dispatcher, rx) = started("x:", "redis://127.0.0.1:1");
        let batch: Batch = (0..5)
            .map(|n| (n, Request::Get { sid: n.to_string() }))
            .collect();
        for reply in run(&dispatcher, &rx, batch) {
            let error = reply.outcome.expect_err("no server");
            assert!(error.starts_with("Redis"), "{error}");
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
