//! The management API's OpenAPI 3.1 document, generated from the handlers' annotations
//! (`utoipa`): its frame (title, security schemes, tags), `/api/v1/openapi.json`, and the
//! browsable page `/api/v1/docs`, written here from the same document as plain HTML (no
//! script, so the site's content policy holds).

use std::fmt::Write;

use app::domain::html::escape;
use serde_json::Value;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";
/// Where its page is.
pub const PAGE_PATH: &str = "/api/v1/docs";

/// The document's frame; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keyhaven management API",
        version = "1",
        description = "The directory for partner back ends: people, groups, apps, the audit \
            trail, and policy decisions. Call it with an access token of the client_credentials \
            grant (POST /oauth2/token) holding the scopes each operation names. Errors are RFC \
            9457 problem documents; creates take an Idempotency-Key; updates need If-Match with \
            the ETag read; lists are cursor-paged; every response carries RateLimit headers."
    ),
    modifiers(&Schemes),
    tags(
        (name = "people", description = "Customers: search, create, read, update, deactivate, delete, and what hangs on them"),
        (name = "groups", description = "Groups of people, and their members"),
        (name = "apps", description = "Partner apps"),
        (name = "audit", description = "The audit trail"),
        (name = "decisions", description = "Attribute-based policy decisions")
    )
)]
pub struct Frame;

/// The two ways apps authenticate: bearer tokens for the management API, client credentials
/// (HTTP Basic, as at the token endpoint) for decisions.
struct Schemes;

impl Modify for Schemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token of the client_credentials grant, with the operation's scope",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("The app's client id and secret"))
                    .build(),
            ),
        );
    }
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The browsable page of `doc` (the document as JSON).
pub fn page(doc: &Value) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Keyhaven management API</title>\
         <link rel=\"stylesheet\" href=\"/pkg/ciam.css\"></head><body><main class=\"api-docs\">",
    );
    let info = &doc["info"];
    let _ = write!(
        html,
        "<h1>{}</h1><p>{}</p><p>OpenAPI {} · <a href=\"{DOCUMENT_PATH}\">openapi.json</a></p>",
        escape(info["title"].as_str().unwrap_or_default()),
        escape(info["description"].as_str().unwrap_or_default()),
        escape(doc["openapi"].as_str().unwrap_or_default()),
    );
    let empty = serde_json::Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            operation(&mut html, method, path, op);
        }
    }
    html.push_str("<h2>Schemas</h2>");
    let schemas = doc["components"]["schemas"].as_object().unwrap_or(&empty);
    for (name, schema) in schemas {
        let _ = write!(
            html,
            "<section id=\"schema-{0}\"><h3>{0}</h3>",
            escape(name)
        );
        if let Some(text) = schema["description"].as_str() {
            let _ = write!(html, "<p>{}</p>", escape(text));
        }
        if let Some(properties) = schema["properties"].as_object() {
            html.push_str("<table><tr><th>Field</th><th>Type</th><th>About</th></tr>");
            for (field, about) in properties {
                let _ = write!(
                    html,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    escape(field),
                    escape(&type_of(about)),
                    escape(about["description"].as_str().unwrap_or_default()),
                );
            }
            html.push_str("</table>");
        }
        html.push_str("</section>");
    }
    html.push_str("</main></body></html>");
    html
}

fn operation(html: &mut String, method: &str, path: &str, op: &Value) {
    let _ = write!(
        html,
        "<section class=\"operation\"><h2><code>{} {}</code></h2>",
        method.to_uppercase(),
        escape(path)
    );
    for key in ["summary", "description"] {
        if let Some(text) = op[key].as_str() {
            let _ = write!(html, "<p>{}</p>", escape(text));
        }
    }
    if let Some(security) = op["security"].as_array() {
        let needs: Vec<String> = security
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|s| s.iter())
            .map(|(scheme, scopes)| {
                let scopes: Vec<&str> = scopes
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                format!("{scheme} {}", scopes.join(" "))
            })
            .collect();
        let _ = write!(html, "<p>Authentication: {}</p>", escape(&needs.join("; ")));
    }
    if let Some(parameters) = op["parameters"].as_array() {
        html.push_str("<table><tr><th>Parameter</th><th>In</th><th>About</th></tr>");
        for p in parameters {
            let _ = write!(
                html,
                "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td></tr>",
                escape(p["name"].as_str().unwrap_or_default()),
                if p["required"].as_bool() == Some(true) {
                    " (required)"
                } else {
                    ""
                },
                escape(p["in"].as_str().unwrap_or_default()),
                escape(p["description"].as_str().unwrap_or_default()),
            );
        }
        html.push_str("</table>");
    }
    if let Some(body) = op["requestBody"]["content"]["application/json"]["schema"].as_object() {
        let _ = write!(
            html,
            "<p>Body: {}</p>",
            escape(&type_of(&Value::Object(body.clone())))
        );
    }
    if let Some(responses) = op["responses"].as_object() {
        html.push_str("<ul>");
        for (status, response) in responses {
            let _ = write!(
                html,
                "<li><code>{}</code> {}</li>",
                escape(status),
                escape(response["description"].as_str().unwrap_or_default())
            );
        }
        html.push_str("</ul>");
    }
    html.push_str("</section>");
}

/// A schema's type in words: its reference's name, or its JSON type.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    match &schema["type"] {
        Value::String(t) if t == "array" => format!("array of {}", type_of(&schema["items"])),
        Value::String(t) => t.clone(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => schema["oneOf"]
            .as_array()
            .map(|options| options.iter().map(type_of).collect::<Vec<_>>().join(" or "))
            .unwrap_or_else(|| "object".into()),
    }
}
