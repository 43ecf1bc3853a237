//! Where a run's pictures go: the [`Publish`] trait between the diff stage and a sink.
//!
//! [`Pusher`] publishes through the platform (an esl-push [`Client`]); [`FolderPublisher`]
//! writes PNG files, for offline work and tests. A run records a label as acknowledged only
//! when its publisher says the picture was delivered.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use esl_model::Model;
use esl_push::{Client, PushError, PushImage};

/// One picture to deliver to one label.
#[derive(Clone, Debug)]
pub struct PublishJob {
    /// The label's shop.
    pub shop_id: String,
    /// The label.
    pub esl_id: String,
    /// Its model.
    pub model: Model,
    /// The indexed PNG.
    pub png: Arc<[u8]>,
}

/// A delivered picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    /// Attempts it took (1 when the first one was accepted).
    pub attempts: u32,
}

/// Why a picture was not delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The platform refused it or could not be reached (after the client's own retries).
    #[error(transparent)]
    Push(#[from] PushError),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
}

impl PublishError {
    /// Whether trying again later may succeed: transport failures, HTTP 429 and 5xx, and the
    /// platform's transient codes (5000), also when the client's retries ran out on them.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        fn push(e: &PushError) -> bool {
            match e {
                PushError::Transport { .. } => true,
                PushError::Http { status, .. } => *status == 429 || *status >= 500,
                PushError::Api { code, .. } => code.is_transient(),
                PushError::GaveUp { last, .. } => push(last),
                _ => false,
            }
        }
        match self {
            PublishError::Push(e) => push(e),
            PublishError::Io { .. } => false,
        }
    }
}

/// The future of one delivery. It owns what it needs (`'static`), so runs can keep many in
/// flight.
pub type PublishFuture = Pin<Box<dyn Future<Output = Result<Published, PublishError>> + Send>>;

/// A sink for a run's pictures.
///
/// ```
/// use esl_diff::{Publish, PublishError, PublishFuture, PublishJob, Published};
///
/// /// Accepts everything and delivers nothing: a dry sink.
/// struct Nowhere;
/// impl Publish for Nowhere {
///     fn publish(&self, _job: PublishJob) -> PublishFuture {
///         Box::pin(async { Ok::<_, PublishError>(Published { attempts: 1 }) })
///     }
///     fn concurrency(&self) -> usize { 1 }
/// }
/// ```
pub trait Publish: Send + Sync {
    /// Delivers one picture.
    fn publish(&self, job: PublishJob) -> PublishFuture;

    /// How many deliveries may be in flight at once (at least 1).
    fn concurrency(&self) -> usize;
}

/// Publishes through the platform: `/device/esl/pushImage` of an esl-push [`Client`], with
/// its retry policy, at most `concurrency` pushes at once.
#[derive(Clone, Debug)]
pub struct Pusher {
    client: Client,
    concurrency: usize,
}

impl Pusher {
    /// A pusher; `concurrency` is at least 1.
    #[must_use]
    pub fn new(client: Client, concurrency: usize) -> Pusher {
        Pusher {
            client,
            concurrency: concurrency.max(1),
        }
    }

    /// The client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl Publish for Pusher {
    fn publish(&self, job: PublishJob) -> PublishFuture {
        let client = self.client.clone();
        Box::pin(async move {
            let req = PushImage::new(job.shop_id, job.esl_id, job.png);
            let receipt = client.push_image(&req).await?;
            Ok(Published {
                attempts: receipt.attempts,
            })
        })
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }
}

/// Publishes into a folder: `<dir>/<shop_id>/<esl_id>.png` (characters other than letters,
/// digits, `.`, `_` and `-` become `_`), written whole (to a temporary file, then renamed).
#[derive(Clone, Debug)]
pub struct FolderPublisher {
    dir: PathBuf,
}

impl FolderPublisher {
    /// Publishes into `dir` (created as needed).
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>) -> FolderPublisher {
        FolderPublisher { dir: dir.into() }
    }

    /// Where a label's picture goes.
    #[must_use]
    pub fn path(&self, shop_id: &str, esl_id: &str) -> PathBuf {
        self.dir
            .join(crate::run::safe_name(shop_id))
            .join(format!("{}.png", crate::run::safe_name(esl_id)))
    }
}

impl Publish for FolderPublisher {
    fn publish(&self, job: PublishJob) -> PublishFuture {
        let path = self.path(&job.shop_id, &job.esl_id);
        Box::pin(async move {
            let io = |source: std::io::Error, p: &std::path::Path| PublishError::Io {
                path: p.display().to_string(),
                source,
            };
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
            }
            let tmp = path.with_extension("png.tmp");
            std::fs::write(&tmp, &job.png).map_err(|e| io(e, &tmp))?;
            std::fs::rename(&tmp, &path).map_err(|e| io(e, &path))?;
            Ok(Published { attempts: 1 })
        })
    }

    fn concurrency(&self) -> usize {
        4
    }
}
