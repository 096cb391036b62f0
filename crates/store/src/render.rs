//! How a notifier looks in a response: the web layer decides, the store keeps the bytes.

use bytes::Bytes;
use notifier_domain::Notifier;

/// Serializes one notifier as every response shows it. The store caches what this returns,
/// so it must depend on nothing but the notifier (and fixed settings).
pub trait Render: Send + Sync + 'static {
    fn body(&self, notifier: &Notifier) -> Result<Bytes, serde_json::Error>;
}

/// What a list page is assembled from; the web layer adds the links.
pub struct PageParts<'a> {
    /// Notifiers the query selects in all.
    pub count: u64,
    /// This page's number, from 1.
    pub number: u64,
    pub num_pages: u64,
    /// The page's notifiers, serialized by [`Render`].
    pub results: &'a [Bytes],
}
