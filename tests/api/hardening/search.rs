//! Bounded work per request: `search` uses its first ten terms, and no query shape is a 500.

use serde_json::Value;

use crate::helpers::*;

fn names(resp: &Resp) -> Vec<String> {
    assert_status(resp, 200);
    resp.json()["results"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r["name"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn encoded(search: &str) -> String {
    format!("{NOTIFIERS}?search={}", urlencoding(search))
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn a_thousand_terms_search_the_first_ten(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_named("alpha-mail").await;
    app.create_named("beta").await;
    // Ten terms that alpha-mail matches, then 990 that nothing matches: ignored.
    let mut terms = vec!["alpha".to_owned(); 5];
    terms.extend(vec!["mail".to_owned(); 5]);
    terms.extend((0..990).map(|n| format!("nothing{n}")));

    let resp = app.get(&encoded(&terms.join(",")), &app.admin_token).await;

    assert_eq!(names(&resp), ["alpha-mail"]);
    // Every one of the first ten terms still has to match.
    let mut strict = terms.clone();
    strict[9] = "nothing".into();
    let resp = app.get(&encoded(&strict.join(" ")), &app.admin_token).await;
    assert_eq!(names(&resp), Vec::<String>::new());
}

async fn no_query_shape_is_a_server_error(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_named("shape").await;
    let long = "x".repeat(20_000);
    let percents = "%".repeat(6_000);
    let many_spaces = format!("shape{}", " ".repeat(5_000));
    let searches = [
        long.as_str(),
        percents.as_str(),
        many_spaces.as_str(),
        "\\",
        "_%_",
        "\0shape",
        "ßhape ŞHAPE 💌",
        "' OR 1=1 --",
        ",,,",
    ];
    for search in searches {
        let resp = app.get(&encoded(search), &app.admin_token).await;
        assert_status(&resp, 200);
        assert!(resp.json()["count"].is_u64(), "{search:.40}: {}", resp.text);
    }
    let odd_queries = [
        "?page=99999999999999999999",
        "?page_size=-1&page=0",
        "?ordering=-,-,--name,%00",
        "?use_tls=maybe&host=%00",
        "?search=a&search=b&search=c",
    ];
    for query in odd_queries {
        let resp = app
            .get(&format!("{NOTIFIERS}{query}"), &app.admin_token)
            .await;
        assert!(
            resp.status == 200 || resp.status == 404,
            "{query}: {} {}",
            resp.status,
            resp.text
        );
        let _: Value = resp.json();
    }
}

backend_tests!(
    a_thousand_terms_search_the_first_ten,
    no_query_shape_is_a_server_error,
);
