//! Checkpoints on a thread of their own.
//!
//! In WAL mode a commit appends pages to the `-wal` file, and a checkpoint copies them back
//! into the database file and syncs it. SQLite's automatic checkpoint runs inside the commit
//! that passes 1,000 pages, on the connection that commits: here the group-commit writer,
//! which every write waits for. Under the benchmark that was an eighth of the writer's time.
//! This thread, with a connection of its own, therefore runs a PASSIVE checkpoint (it never
//! blocks the writer or a reader) soon after commits happen, and copies most pages. It
//! cannot bound the WAL alone: the WAL starts again from its beginning only when a write
//! begins after a checkpoint that copied all of it, which under writes without a pause
//! never happens. So the writer keeps an automatic checkpoint at `db::WAL_LIMIT` as well
//! (it then copies only what this thread has not). What is durable does not change: a
//! commit is on disk in the WAL before it is acknowledged, whoever copies it on.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::db::Conn;

/// How long after a commit the checkpoint runs: the commits of that time are copied
/// together (a page written by many of them is copied once).
const GATHER: Duration = Duration::from_millis(1000);

enum Signal {
    Committed,
    Stop,
}

pub(crate) struct Checkpointer {
    signal: SyncSender<Signal>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Starts the thread with its own connection to the database at `path`.
    pub(crate) fn start(path: &Path) -> crate::db::Result<Checkpointer> {
        let mut conn = Conn::open(path, true)?;
        let (signal, wake) = mpsc::sync_channel::<Signal>(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                // Until told to stop, or until the store is gone (the channel closes).
                while let Ok(Signal::Committed) = wake.recv() {
                    // Let the commits of the next moments gather, unless told to stop.
                    match wake.recv_timeout(GATHER) {
                        Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                        Ok(Signal::Committed) | Err(RecvTimeoutError::Timeout) => {}
                    }
                    if let Err(e) = conn.checkpoint() {
                        tracing::warn!(error = %e, "WAL checkpoint failed; it is tried again after the next commit");
                    }
                }
                // The connection closes here; the last connection to close checkpoints
                // whatever is left.
                drop(conn);
            })
            .map_err(|e| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(format!("could not start the checkpoint thread: {e}")),
                )
            })?;
        Ok(Checkpointer {
            signal,
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// A commit happened (cheap, never waits: a signal already pending covers it).
    pub(crate) fn committed(&self) {
        match self.signal.try_send(Signal::Committed) {
            Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Stops the thread and waits for it (its connection is closed when this returns).
    pub(crate) async fn stop(&self) {
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        let Some(thread) = thread else { return };
        let signal = self.signal.clone();
        // `send` waits while a `Committed` is pending; the thread takes it within `GATHER`.
        let _ = tokio::task::spawn_blocking(move || {
            let _ = signal.send(Signal::Stop);
            let _ = thread.join();
        })
        .await;
    }
}
