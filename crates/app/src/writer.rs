//! The write path: one task owns the write connection and commits many clients' writes in
//! one transaction (group commit).
//!
//! A client hands over a job and waits. The writer takes every job that is waiting, runs
//! each inside its own savepoint (a failing job is rolled back alone; a job alone in its
//! batch needs none, since its error rolls back the transaction), commits once, and
//! only then answers each client: nothing is acknowledged before it is durable. While one
//! commit is being synced to disk the next jobs queue up, so the batch size follows the
//! load by itself.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, StoreError};
use crate::ports::{Store, TxControl};

pub type TxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

/// Called once the batch's commit has finished, with its outcome.
type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type JobFuture<'a> = Pin<Box<dyn Future<Output = (bool, Completion)> + Send + 'a>>;
type Job<Tx> = Box<dyn for<'a> FnOnce(&'a mut Tx) -> JobFuture<'a> + Send>;

/// Most jobs one transaction takes; bounds the time a batch holds the write lock.
const MAX_BATCH: usize = 256;

pub struct Writer<S: Store> {
    jobs: mpsc::Sender<Job<S::Tx>>,
}

impl<S: Store> Clone for Writer<S> {
    fn clone(&self) -> Self {
        Writer {
            jobs: self.jobs.clone(),
        }
    }
}

impl<S: Store> Writer<S> {
    /// Starts the writer task. It ends when every `Writer` handle is dropped.
    pub fn start(store: S) -> Writer<S> {
        let (tx, rx) = mpsc::channel::<Job<S::Tx>>(4096);
        tokio::spawn(run(store, rx));
        Writer { jobs: tx }
    }

    /// Runs `f` in the shared write transaction and returns its result once committed.
    /// An `Err` from `f` rolls back only `f`'s own writes.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut S::Tx) -> TxFuture<'a, T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, AppError>>();
        let job: Job<S::Tx> = Box::new(move |tx| {
            Box::pin(async move {
                let result = f(tx).await;
                let ok = result.is_ok();
                let completion: Completion = Box::new(move |commit| {
                    let outcome = match (result, commit) {
                        (Ok(v), Ok(())) => Ok(v),
                        (Err(e), _) => Err(e),
                        (Ok(_), Err(e)) => Err(AppError::Store(e)),
                    };
                    // The client may have gone away; its write stands regardless.
                    let _ = reply.send(outcome);
                });
                (ok, completion)
            })
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| AppError::Store(StoreError::Unavailable("writer stopped".into())))?;
        answer
            .await
            .map_err(|_| AppError::Store(StoreError::Unavailable("writer stopped".into())))?
    }
}

async fn run<S: Store>(store: S, mut rx: mpsc::Receiver<Job<S::Tx>>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Each batch runs as its own task: should a job ever panic, only its batch is lost
        // (rolled back, its clients told the store is unavailable) and writing goes on.
        let store = store.clone();
        if let Err(e) = tokio::spawn(async move { run_batch(&store, batch).await }).await {
            tracing::error!(error = %e, "a write batch panicked; it was rolled back");
        }
    }
}

async fn run_batch<S: Store>(store: &S, batch: Vec<Job<S::Tx>>) {
    let n = batch.len();
    let mut tx = match store.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            // Dropping the unrun jobs drops their reply channels: each client is told the
            // store is unavailable, and nothing was written.
            tracing::error!(error = %e, jobs = n, "could not begin the write transaction");
            return;
        }
    };
    if n == 1 {
        // Alone in its transaction, a job needs no savepoint (opening one costs the copy of
        // every page it then changes): its error rolls back the transaction.
        if let Some(job) = batch.into_iter().next() {
            let (ok, completion) = job(&mut tx).await;
            let outcome = if ok {
                tx.commit().await
            } else {
                // The job's own error is what its client hears.
                let _ = tx.rollback().await;
                Ok(())
            };
            if let Err(e) = &outcome {
                tracing::error!(error = %e, jobs = 1, "write batch failed");
            }
            completion(outcome);
        }
        return;
    }
    let mut completions = Vec::with_capacity(n);
    let mut broken: Option<StoreError> = None;
    for job in batch {
        if broken.is_some() {
            // Unrun: its client is told the store is unavailable.
            continue;
        }
        if let Err(e) = tx.savepoint().await {
            broken = Some(e);
            continue;
        }
        let (ok, completion) = job(&mut tx).await;
        let step = if ok {
            tx.release_savepoint().await
        } else {
            tx.rollback_to_savepoint().await
        };
        completions.push(completion);
        if let Err(e) = step {
            broken = Some(e);
        }
    }
    let outcome = match broken {
        Some(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
        None => tx.commit().await,
    };
    if let Err(e) = &outcome {
        tracing::error!(error = %e, jobs = n, "write batch failed");
    }
    tracing::trace!(jobs = n, "write batch done");
    for c in completions {
        c(outcome.clone());
    }
}
