//! The served API and its OpenAPI description agree: every (path, method) the schema lists
//! is served (never a routing 404 or a 405), and every route the app serves, from the same
//! table its 405 answers use, is in the schema (the unit test in `notifier-web` holds the
//! schema to that table; this one holds the running app to it).

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

backend_tests!(
    sqlite: [schema_and_served_routes_agree, options_metadata_and_schema_agree_on_max_lengths],
    postgres: []
);

async fn schema_and_served_routes_agree(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("described").await);
    // With DKIM settings, so that its GET and DELETE answer something else than 404.
    let dkim = json!({"domain": "example.com", "selector": "s", "algorithm": "ed25519-sha256"});
    let path = format!("{}/dkim", notifier_path(id));
    assert_status(&app.put_json(&path, &dkim, &app.admin_token).await, 200);
    let schema = app.get("/api/schema", "").await.json();
    let paths = schema["paths"].as_object().expect("paths");
    for (route, allow) in notifier_server_routes() {
        let path = route.replace("{id}", &id.to_string());
        let served: Vec<&str> = allow
            .split(", ")
            .filter(|m| !matches!(*m, "HEAD" | "OPTIONS"))
            .collect();
        let described: Vec<String> = paths
            .get(route)
            .and_then(Value::as_object)
            .map(|item| item.keys().map(|k| k.to_uppercase()).collect())
            .unwrap_or_default();
        let mut described_sorted = described.clone();
        described_sorted.sort();
        let mut served_sorted: Vec<String> = served.iter().map(|m| m.to_string()).collect();
        served_sorted.sort();
        assert_eq!(
            described_sorted, served_sorted,
            "schema vs served methods of {route}"
        );
        for method in &served {
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            let resp = app
                .send(
                    app.request(method.clone(), &path)
                        .header("Authorization", token_header(&app.admin_token)),
                )
                .await;
            assert_ne!(
                resp.status,
                StatusCode::METHOD_NOT_ALLOWED.as_u16(),
                "{method} {path}"
            );
            assert!(
                resp.text != r#"{"detail":"Not found."}"#,
                "{method} {path} is not routed"
            );
        }
        let unserved = app
            .send(
                app.request(Method::TRACE, &path)
                    .header("Authorization", token_header(&app.admin_token)),
            )
            .await;
        assert_eq!(unserved.status, 405, "TRACE {path}");
        assert_eq!(unserved.header("allow"), Some(allow), "Allow of {path}");
    }
    assert_eq!(
        paths.len(),
        notifier_server_routes().len(),
        "the schema describes only served routes"
    );
}

/// DRF's metadata (OPTIONS) spells its max lengths out; the schema's come from
/// `notifier_domain::limits` (a unit test in `notifier-web` holds them there), so the two
/// agreeing keeps the metadata on the enforced limits too.
async fn options_metadata_and_schema_agree_on_max_lengths(backend: Backend) {
    let app = spawn_app(backend).await;
    let schema = app.get("/api/schema", "").await.json();
    let documented = &schema["components"]["schemas"]["NotifierWrite"]["properties"];
    let options = app
        .send(
            app.request(Method::OPTIONS, NOTIFIERS)
                .header("Authorization", token_header(&app.admin_token)),
        )
        .await;
    assert_eq!(options.status, 200);
    let metadata = options.json()["actions"]["POST"].clone();
    let bounded = |fields: &Value, key: &str| -> BTreeMap<String, Value> {
        fields
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, field)| Some((name.clone(), field.get(key)?.clone())))
            .collect()
    };
    let in_metadata = bounded(&metadata, "max_length");
    assert_eq!(in_metadata.len(), 5, "{in_metadata:?}");
    assert_eq!(in_metadata, bounded(documented, "maxLength"));
}

fn notifier_server_routes() -> Vec<(&'static str, &'static str)> {
    notifier_web::ROUTES.to_vec()
}
