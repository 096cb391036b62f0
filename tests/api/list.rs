//! §4 list: pagination with DRF's absolute links, search, ordering, exact filters.

use serde_json::{Value, json};

use crate::helpers::*;

/// The `results` of a list response, checked to be a 200 list page.
#[track_caller]
fn results(resp: &Resp) -> Vec<Value> {
    assert_status(resp, 200);
    resp.json()["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results array: {}", resp.text))
        .clone()
}

fn names(resp: &Resp) -> Vec<String> {
    results(resp)
        .iter()
        .map(|n| n["name"].as_str().expect("a name").to_owned())
        .collect()
}

async fn create_many(app: &TestApp, count: usize) -> Vec<Value> {
    let mut created = Vec::with_capacity(count);
    for i in 0..count {
        created.push(app.create_named(&format!("notifier-{i:03}")).await);
    }
    created
}

/// What DRF builds from the request's Host: `http://127.0.0.1:PORT/api/…/email`.
fn absolute(app: &TestApp) -> String {
    format!("http://127.0.0.1:{}{NOTIFIERS}", app.port)
}

fn page(count: usize, next: Option<String>, previous: Option<String>, results: &[Value]) -> Value {
    json!({ "count": count, "next": next, "previous": previous, "results": results })
}

async fn empty_list_is_an_empty_page(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app.get(NOTIFIERS, &app.admin_token).await;

    assert_json(&resp, 200, &page(0, None, None, &[]));
}

async fn list_shows_whole_notifiers_in_id_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = vec![
        app.create_notifier(&reference_create_body()).await,
        app.create_named("second").await,
        app.create_named("third").await,
    ];

    let resp = app.get(NOTIFIERS, &app.admin_token).await;

    assert_json(&resp, 200, &page(3, None, None, &created));
}

async fn default_page_size_is_20_with_absolute_links(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = create_many(&app, 21).await;
    let base = absolute(&app);

    let first = app.get(NOTIFIERS, &app.admin_token).await;
    let second = app
        .get(&format!("{NOTIFIERS}?page=2"), &app.admin_token)
        .await;

    let next = format!("{base}?page=2");
    assert_json(&first, 200, &page(21, Some(next), None, &created[..20]));
    assert_json(&second, 200, &page(21, None, Some(base), &created[20..]));
}

async fn page_size_sets_the_page_length_and_links_keep_the_query(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = create_many(&app, 5).await;
    let base = absolute(&app);

    let resp = app
        .get(&format!("{NOTIFIERS}?page_size=2&page=2"), &app.admin_token)
        .await;

    // DRF rebuilds the query with its keys sorted and drops `page` for the first page.
    let next = format!("{base}?page=3&page_size=2");
    let previous = format!("{base}?page_size=2");
    assert_json(
        &resp,
        200,
        &page(5, Some(next), Some(previous), &created[2..4]),
    );
}

async fn links_keep_search_ordering_and_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = create_many(&app, 5).await;
    let base = absolute(&app);
    let query = "search=notifier&use_tls=true&ordering=-id&utm=x&page_size=1&page=2";

    let resp = app
        .get(&format!("{NOTIFIERS}?{query}"), &app.admin_token)
        .await;

    let rest = "search=notifier&use_tls=true&utm=x";
    let next = format!("{base}?ordering=-id&page=3&page_size=1&{rest}");
    let previous = format!("{base}?ordering=-id&page_size=1&{rest}");
    assert_json(
        &resp,
        200,
        &page(5, Some(next), Some(previous), &created[3..4]),
    );
}

/// DRF builds links from the request's own path and form-encodes the query.
async fn links_keep_a_trailing_slash_and_encode_the_query(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = create_many(&app, 3).await;
    let base = format!("{}/", absolute(&app));

    let resp = app
        .get(
            &format!("{NOTIFIERS}/?page_size=1&search=%40example"),
            &app.admin_token,
        )
        .await;

    let next = format!("{base}?page=2&page_size=1&search=%40example");
    assert_json(&resp, 200, &page(3, Some(next), None, &created[..1]));
}

/// `%` and `_` are text to search for, not SQL wildcards.
async fn search_treats_sql_wildcards_literally(backend: Backend) {
    let app = spawn_app(backend).await;
    for name in ["100% relay", "under_score", "plain"] {
        app.create_named(name).await;
    }
    let cases: [(&str, &[&str]); 4] = [
        ("%25", &["100% relay"]),
        ("e%25y", &[]),
        ("_", &["under_score"]),
        ("0_+r", &[]),
    ];

    for (term, expected) in cases {
        let resp = app
            .get(&format!("{NOTIFIERS}?search={term}"), &app.admin_token)
            .await;

        assert_eq!(names(&resp), expected, "search={term}");
    }
}

async fn page_size_is_capped_at_100(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = create_many(&app, 101).await;
    let base = absolute(&app);

    let resp = app
        .get(&format!("{NOTIFIERS}?page_size=1000"), &app.admin_token)
        .await;

    let next = format!("{base}?page=2&page_size=1000");
    assert_json(&resp, 200, &page(101, Some(next), None, &created[..100]));
}

async fn invalid_page_size_falls_back_to_the_default(backend: Backend) {
    let app = spawn_app(backend).await;
    create_many(&app, 21).await;

    for page_size in ["0", "-3", "abc", ""] {
        let resp = app
            .get(
                &format!("{NOTIFIERS}?page_size={page_size}"),
                &app.admin_token,
            )
            .await;

        assert_eq!(results(&resp).len(), 20, "page_size={page_size}");
    }
}

async fn page_out_of_range_is_404_invalid_page(backend: Backend) {
    let app = spawn_app(backend).await;
    create_many(&app, 3).await;

    for page in ["2", "0", "-1", "abc", "99999999999999999999"] {
        let resp = app
            .get(&format!("{NOTIFIERS}?page={page}"), &app.admin_token)
            .await;

        assert_detail(&resp, 404, "Invalid page.");
    }
}

async fn first_page_of_an_empty_list_exists_but_not_the_second(backend: Backend) {
    let app = spawn_app(backend).await;

    let first = app
        .get(&format!("{NOTIFIERS}?page=1"), &app.admin_token)
        .await;
    let second = app
        .get(&format!("{NOTIFIERS}?page=2"), &app.admin_token)
        .await;

    assert_json(&first, 200, &page(0, None, None, &[]));
    assert_detail(&second, 404, "Invalid page.");
}

/// Three notifiers with distinct words in each searchable field.
async fn create_search_fixture(app: &TestApp) {
    let bodies = [
        json!({ "name": "Alpha Relay", "host": "smtp.one.example", "username": "alice",
                "from_email": "ops@one.example", "password": "needle-in-password" }),
        json!({ "name": "beta", "host": "MAIL.Two.example", "username": "bob",
                "from_email": "noreply@two.example", "use_tls": false }),
        json!({ "name": "gamma", "host": "smtp.three.example", "username": "Carol",
                "from_email": "ALERTS@three.example", "use_ssl": true, "fail_silently": true }),
    ];
    for body in bodies {
        app.create_notifier(&with(&notifier_body("x"), body)).await;
    }
}

async fn search_is_case_insensitive_over_name_host_username_and_from_email(backend: Backend) {
    let app = spawn_app(backend).await;
    create_search_fixture(&app).await;
    let cases: [(&str, &[&str]); 9] = [
        ("alpha", &["Alpha Relay"]),
        ("RELAY", &["Alpha Relay"]),
        ("two", &["beta"]),
        ("mail.two", &["beta"]),
        ("carol", &["gamma"]),
        ("alerts@", &["gamma"]),
        ("SMTP", &["Alpha Relay", "gamma"]),
        ("needle", &[]),
        ("zzz", &[]),
    ];

    for (term, expected) in cases {
        let resp = app
            .get(&format!("{NOTIFIERS}?search={term}"), &app.admin_token)
            .await;

        assert_eq!(names(&resp), expected, "search={term}");
        assert_eq!(resp.json()["count"], expected.len(), "search={term}");
    }
}

/// DRF splits the search on spaces and commas; every term must match some field.
async fn search_terms_must_all_match(backend: Backend) {
    let app = spawn_app(backend).await;
    create_search_fixture(&app).await;
    let cases: [(&str, &[&str]); 6] = [
        ("relay+alpha", &["Alpha Relay"]),
        ("alpha+smtp", &["Alpha Relay"]),
        ("smtp,carol", &["gamma"]),
        ("smtp++three", &["gamma"]),
        ("relay+two", &[]),
        ("beta+zzz", &[]),
    ];

    for (terms, expected) in cases {
        let resp = app
            .get(&format!("{NOTIFIERS}?search={terms}"), &app.admin_token)
            .await;

        assert_eq!(names(&resp), expected, "search={terms}");
    }
}

async fn exact_filters_select_by_host_and_flags(backend: Backend) {
    let app = spawn_app(backend).await;
    create_search_fixture(&app).await;
    let cases: [(&str, &[&str]); 10] = [
        ("host=smtp.one.example", &["Alpha Relay"]),
        ("host=SMTP.ONE.EXAMPLE", &[]),
        ("host=smtp", &[]),
        ("host=one.example", &[]),
        ("use_tls=false", &["beta"]),
        ("use_tls=true", &["Alpha Relay", "gamma"]),
        ("use_ssl=true", &["gamma"]),
        ("fail_silently=false", &["Alpha Relay", "beta"]),
        ("use_tls=true&use_ssl=false", &["Alpha Relay"]),
        ("search=example&fail_silently=true", &["gamma"]),
    ];

    for (query, expected) in cases {
        let resp = app
            .get(&format!("{NOTIFIERS}?{query}"), &app.admin_token)
            .await;

        assert_eq!(names(&resp), expected, "{query}");
    }
}

async fn ordering_by_each_field_in_both_directions(backend: Backend) {
    let app = spawn_app(backend).await;
    for name in ["bravo", "charlie", "alpha"] {
        app.create_named(name).await;
    }
    let first_id = id_of(&results(&app.get(NOTIFIERS, &app.admin_token).await)[0]);
    let resp = app
        .patch_json(
            &notifier_path(first_id),
            &json!({ "username": "touched" }),
            &app.admin_token,
        )
        .await;
    assert_status(&resp, 200);
    let cases: [(&str, [&str; 3]); 14] = [
        ("id", ["bravo", "charlie", "alpha"]),
        ("-name,id", ["charlie", "bravo", "alpha"]),
        ("bogus,-name", ["charlie", "bravo", "alpha"]),
        ("-port,-id", ["alpha", "charlie", "bravo"]),
        ("-id", ["alpha", "charlie", "bravo"]),
        ("name", ["alpha", "bravo", "charlie"]),
        ("-name", ["charlie", "bravo", "alpha"]),
        ("created_at", ["bravo", "charlie", "alpha"]),
        ("-created_at", ["alpha", "charlie", "bravo"]),
        ("updated_at", ["charlie", "alpha", "bravo"]),
        ("-updated_at", ["bravo", "alpha", "charlie"]),
        ("password", ["bravo", "charlie", "alpha"]),
        ("nonsense", ["bravo", "charlie", "alpha"]),
        ("", ["bravo", "charlie", "alpha"]),
    ];

    for (ordering, expected) in cases {
        let resp = app
            .get(
                &format!("{NOTIFIERS}?ordering={ordering}"),
                &app.admin_token,
            )
            .await;

        assert_eq!(names(&resp), expected, "ordering={ordering}");
    }
}

async fn trailing_slash_lists_the_same_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = create_many(&app, 2).await;

    let resp = app.get(&format!("{NOTIFIERS}/"), &app.admin_token).await;

    assert_json(&resp, 200, &page(2, None, None, &created));
}

backend_tests!(
    empty_list_is_an_empty_page,
    list_shows_whole_notifiers_in_id_order,
    default_page_size_is_20_with_absolute_links,
    page_size_sets_the_page_length_and_links_keep_the_query,
    links_keep_search_ordering_and_filters,
    links_keep_a_trailing_slash_and_encode_the_query,
    search_treats_sql_wildcards_literally,
    page_size_is_capped_at_100,
    invalid_page_size_falls_back_to_the_default,
    page_out_of_range_is_404_invalid_page,
    first_page_of_an_empty_list_exists_but_not_the_second,
    search_is_case_insensitive_over_name_host_username_and_from_email,
    search_terms_must_all_match,
    exact_filters_select_by_host_and_flags,
    ordering_by_each_field_in_both_directions,
    trailing_slash_lists_the_same_page,
);
