use notifier_domain::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Persistence(#[from] notifier_persistence::Error),
    /// The request's fields are wrong (with a taken name added when it is).
    #[error("invalid fields")]
    Invalid(FieldErrors),
    /// The page number is past the last page.
    #[error("no such page")]
    PageOutOfRange,
    #[error("a response could not be serialized: {0}")]
    Render(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
