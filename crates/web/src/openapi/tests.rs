use std::collections::BTreeSet;

use actix_web::App;
use actix_web::test::{TestRequest, call_and_read_body_json, init_service};
use notifier_domain::limits::{
    DEFAULT_PAGE_SIZE, MAX_FROM_EMAIL_LENGTH, MAX_HOST_LENGTH, MAX_NAME_LENGTH, MAX_PAGE_SIZE,
    MAX_PASSWORD_LENGTH, MAX_PORT, MAX_RECIPIENTS, MAX_SEARCH_TERMS, MAX_USERNAME_LENGTH, MIN_PORT,
};
use serde_json::{Value, json};

use crate::paths::{NOTIFIERS_PATH, ROUTES};

fn document_json() -> Value {
    serde_json::to_value(super::document()).unwrap_or_default()
}

/// The document as `/api/schema` serves it, through the real route table.
async fn served_document() -> Value {
    let app = init_service(App::new().configure(crate::configure)).await;
    let request = TestRequest::get().uri("/api/schema").to_request();
    call_and_read_body_json(&app, request).await
}

#[test]
fn every_reference_resolves() {
    let document = document_json();
    let mut references = Vec::new();
    collect_references(&document, &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let pointer = reference.strip_prefix('#').unwrap_or_default();
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} is undefined"
        );
    }
}

#[test]
fn operation_ids_are_unique() {
    let document = document_json();
    let mut seen = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().into_iter().flatten() {
        for (method, operation) in operations.as_object().into_iter().flatten() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(!id.is_empty(), "{method} {path} has no operationId");
            assert!(
                seen.insert(id.clone()),
                "{id} names two operations ({method} {path})"
            );
        }
    }
}

fn collect_references(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get("$ref") {
                into.push(reference.clone());
            }
            object.values().for_each(|v| collect_references(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, into)),
        _ => {}
    }
}

#[actix_web::test]
async fn the_served_limits_are_the_domain_limits() {
    let document = served_document().await;
    let schemas = &document["components"]["schemas"];
    let write = &schemas["NotifierWrite"]["properties"];
    let max_lengths = [
        ("name", MAX_NAME_LENGTH),
        ("host", MAX_HOST_LENGTH),
        ("username", MAX_USERNAME_LENGTH),
        ("password", MAX_PASSWORD_LENGTH),
        ("from_email", MAX_FROM_EMAIL_LENGTH),
    ];
    for (field, max) in max_lengths {
        assert_eq!(write[field]["maxLength"], json!(max), "{field}");
    }
    assert_eq!(write["port"]["minimum"], json!(MIN_PORT));
    assert_eq!(write["port"]["maximum"], json!(MAX_PORT));

    let send = &schemas["SendBody"];
    for list in ["to", "cc", "bcc"] {
        assert_eq!(
            send["properties"][list]["maxItems"],
            json!(MAX_RECIPIENTS),
            "{list}"
        );
    }
    let recipients = format!("at most {MAX_RECIPIENTS} recipients");
    assert!(description(send).contains(&recipients));

    let list = &document["paths"][NOTIFIERS_PATH]["get"]["parameters"];
    let parameter = |name: &str| {
        list.as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == name))
            .map(description)
            .unwrap_or_default()
    };
    let page_size = format!("default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}");
    assert!(parameter("page_size").contains(&page_size));
    assert!(parameter("search").contains(&format!("first {MAX_SEARCH_TERMS}")));
}

fn description(value: &Value) -> String {
    value["description"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn the_schema_describes_exactly_the_served_routes() {
    let document = document_json();
    let described: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            let methods: Vec<String> = item
                .as_object()
                .map(|o| o.keys().filter(|k| is_method(k)).cloned().collect())
                .unwrap_or_default();
            methods.into_iter().map(move |m| (path.clone(), m))
        })
        .collect();
    assert_eq!(described, served());
}

/// HEAD and OPTIONS come with GET and every route; the schema describes the rest.
fn served() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .flat_map(|(path, allow)| {
            allow
                .split(", ")
                .filter(|m| !matches!(*m, "HEAD" | "OPTIONS"))
                .map(|m| (path.to_string(), m.to_lowercase()))
        })
        .collect()
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "post" | "put" | "patch" | "delete" | "head" | "options"
    )
}

#[test]
fn create_and_send_document_the_idempotency_key() {
    let document = document_json();
    for path in crate::api_docs::IDEMPOTENT_PATHS {
        let operation = &document["paths"][path]["post"];
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let key = parameters
            .iter()
            .find(|p| p["name"] == "Idempotency-Key")
            .unwrap_or_else(|| panic!("{path}: no Idempotency-Key parameter"));
        assert_eq!(key["in"], "header", "{path}");
        assert_eq!(key["schema"]["maxLength"], json!(255), "{path}");
        for status in ["409", "422"] {
            assert!(
                operation["responses"][status].is_object(),
                "{path}: no {status} response"
            );
        }
        assert!(operation["responses"]["409"]["headers"]["Retry-After"].is_object());
    }
}
