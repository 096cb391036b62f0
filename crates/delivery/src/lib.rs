//! Durable delivery (docs/API.md §9): nothing accepted is lost.
//!
//! Every message `/send` accepts is recorded as a delivery (the store's outbox table)
//! before any SMTP traffic. Then either the request makes the first attempt itself
//! ([`Outbox::send_now`], the synchronous send of §5) or it is left `queued`
//! ([`Outbox::enqueue`], `Prefer: respond-async`), and the [`Workers`] of every instance
//! take it from there:
//!
//! ```text
//!   send_now ──► sending ──┬─► sent
//!   enqueue ──► queued ──► │   deferred ──(back-off)──► sending …
//!   (workers claim) ───────┘   failed          cancelled ◄── cancel (queued/deferred)
//!                              retry (failed/deferred) ──► queued
//! ```
//!
//! - A claim is a lease: a delivery left `sending` by a process that died is due again
//!   when its lease ends, and is attempted again (at-least-once; the `Message-ID` is the
//!   same on every attempt, so a receiver can drop the duplicate).
//! - A transient failure (the connection failed, a 4xx reply) defers the delivery by an
//!   exponential back-off with jitter; a permanent one (5xx, a refused login, a bad
//!   address, a forbidden destination) fails it at once, as does running out of attempts.
//! - On SIGTERM the workers stop claiming, let their in-flight sends finish and leave
//!   the rest queued for the next start or for another instance.
//!
//! This crate decides what happens; the store records it and the mailer talks SMTP.

mod attempt;
mod counters;
mod outbox;
mod workers;

pub use attempt::{sending_settings, smtp_settings};
pub use counters::DeliveryCounters;
pub use outbox::{DeliveryOptions, Outbox, SyncSend};
pub use workers::Workers;
