//! Query parameters.

/// The list's query parameters (§4).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Page number from 1, or `last`.
    page: Option<String>,
    /// Items per page: default 20, at most 100.
    page_size: Option<u32>,
    /// Case-insensitive substring of name, host, username or from_email; several terms
    /// separated by spaces or commas must all match.
    search: Option<String>,
    /// `id`, `name`, `created_at` or `updated_at`, `-` for descending; comma-separated.
    ordering: Option<String>,
    /// Exact host.
    host: Option<String>,
    use_tls: Option<bool>,
    use_ssl: Option<bool>,
    fail_silently: Option<bool>,
}
