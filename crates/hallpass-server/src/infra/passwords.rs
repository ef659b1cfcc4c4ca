//! Password hashing off the async workers: a fixed pool of threads, each with its own reusable
//! argon2 memory, fed through a bounded queue. A full queue is refused at once (503) instead of
//! letting a login storm stall every other request or grow memory without bound.

use std::{
    sync::{Arc, Mutex, mpsc},
    thread,
};

use hallpass_core::password::{
    self, HashMemory, Password, PasswordHash, PasswordHasher, Verification,
};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

/// Why a hashing job did not produce an answer.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Every thread is busy and the queue is full.
    #[error("password hashing queue is full")]
    QueueFull,
    /// The pool has shut down (the server is stopping).
    #[error("password hashing pool is gone")]
    PoolGone,
    /// argon2 refused (bad parameters, corrupt stored hash).
    #[error(transparent)]
    Hash(#[from] password::HashingError),
}

type Job = Box<dyn FnOnce(&PasswordHasher, &mut HashMemory) + Send>;

/// Handle to the hashing threads; clones share the pool.
#[derive(Clone)]
pub struct Passwords {
    queue: mpsc::SyncSender<Job>,
    hasher: Arc<PasswordHasher>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("hasher", &self.hasher)
            .finish_non_exhaustive()
    }
}

impl Passwords {
    /// Starts `threads` hashing threads with room for `queue` waiting jobs. The threads end when
    /// the last handle is dropped.
    pub fn start(hasher: PasswordHasher, threads: usize, queue: usize) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        let hasher = Arc::new(hasher);
        for i in 0..threads.max(1) {
            let receiver = Arc::clone(&receiver);
            let hasher = Arc::clone(&hasher);
            thread::Builder::new()
                .name(format!("hallpass-argon2-{i}"))
                .spawn(move || {
                    let mut memory = HashMemory::default();
                    loop {
                        let job = {
                            let guard = receiver
                                .lock()
                                .unwrap_or_else(|poisoned| poisoned.into_inner());
                            guard.recv()
                        };
                        match job {
                            Ok(job) => job(&hasher, &mut memory),
                            Err(mpsc::RecvError) => break,
                        }
                    }
                })?;
        }
        Ok(Self {
            queue: sender,
            hasher,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&PasswordHasher, &mut HashMemory) -> Result<T, password::HashingError>
        + Send
        + 'static,
    ) -> Result<T, HashingError> {
        let (reply, answer) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |hasher, memory| {
            let _entered = span.enter();
            let _ = reply.send(work(hasher, memory));
        });
        self.queue.try_send(job).map_err(|error| match error {
            mpsc::TrySendError::Full(_) => HashingError::QueueFull,
            mpsc::TrySendError::Disconnected(_) => HashingError::PoolGone,
        })?;
        Ok(answer.await.map_err(|_| HashingError::PoolGone)??)
    }

    /// Hashes a new password with a fresh random salt.
    pub async fn hash(&self, password: Password) -> Result<PasswordHash, HashingError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| password::HashingError::from_rng(&e))?;
        self.run(move |hasher, memory| hasher.hash(password.expose(), salt, memory))
            .await
    }

    /// Verifies a presented password against a stored hash.
    pub async fn verify(
        &self,
        presented: &str,
        stored: PasswordHash,
    ) -> Result<Verification, HashingError> {
        let presented = Zeroizing::new(presented.to_owned());
        self.run(move |hasher, memory| hasher.verify(presented.as_bytes(), &stored, memory))
            .await
    }

    /// Costs what [`verify`](Self::verify) costs and matches nothing: for unknown usernames.
    pub async fn verify_dummy(&self, presented: &str) -> Result<(), HashingError> {
        let presented = Zeroizing::new(presented.to_owned());
        self.run(move |hasher, memory| hasher.verify_dummy(presented.as_bytes(), memory))
            .await
    }
}
