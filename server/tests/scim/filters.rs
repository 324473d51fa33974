//! Filters, sorting and pages over Users: every operator on the attributes provisioning
//! clients filter by, `and`, `or`, `not`, value paths, `sortBy`/`sortOrder`,
//! `startIndex`/`count`, and `invalidFilter` for what does not parse or fit.

use serde_json::{json, Value};
use sqlx::PgPool;

use super::{assert_error, Scim};
use crate::support::TestApp;

/// The userNames a filter finds, in the order returned.
async fn found(scim: &Scim, query: &str) -> Vec<String> {
    let res = scim.get(&format!("/Users?{query}")).await;
    assert_eq!(res.status, 200, "{query}: {}", res.body);
    res.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_owned())
        .collect()
}

fn q(filter: &str) -> String {
    format!("filter={}&sortBy=userName", urlencode(filter))
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn people(scim: &Scim) {
    let specs: [(&str, Value); 4] = [
        (
            "ada@example.org",
            json!({ "externalId": "E-1", "displayName": "Ada Lovelace",
            "name": { "givenName": "Ada", "familyName": "Lovelace" } }),
        ),
        (
            "bob@example.com",
            json!({ "externalId": "E-2", "displayName": "Bob Stone" }),
        ),
        (
            "carol@example.org",
            json!({ "active": false, "name": { "givenName": "Carol" } }),
        ),
        ("dave@sample.net", json!({})),
    ];
    for (email, extra) in specs {
        scim.user(email, extra).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn every_operator_finds_what_it_should(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    people(&scim).await;
    let (ada, bob, carol, dave) = (
        "ada@example.org",
        "bob@example.com",
        "carol@example.org",
        "dave@sample.net",
    );
    for (filter, expected) in [
        (r#"userName eq "ADA@example.org""#, vec![ada]),
        (r#"userName ne "ada@example.org""#, vec![bob, carol, dave]),
        (r#"userName co "EXAMPLE""#, vec![ada, bob, carol]),
        (r#"userName sw "c""#, vec![carol]),
        (r#"userName ew ".org""#, vec![ada, carol]),
        (r#"userName gt "bob@example.com""#, vec![carol, dave]),
        (r#"userName le "bob@example.com""#, vec![ada, bob]),
        (r#"emails.value eq "dave@sample.net""#, vec![dave]),
        (
            r#"emails[type eq "work" and value co "sample"]"#,
            vec![dave],
        ),
        (r#"externalId eq "E-2""#, vec![bob]),
        (r#"externalId eq "e-2""#, vec![]),
        ("externalId pr", vec![ada, bob]),
        ("not (externalId pr)", vec![carol, dave]),
        ("active eq false", vec![carol]),
        ("active eq true and displayName pr", vec![ada, bob]),
        (
            r#"name.givenName eq "carol" or name.familyName sw "Love""#,
            vec![ada, carol],
        ),
        (r#"displayName co "stone""#, vec![bob]),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName pr",
            vec![ada, carol],
        ),
        (
            r#"meta.lastModified gt "2000-01-01T00:00:00Z""#,
            vec![ada, bob, carol, dave],
        ),
        (r#"meta.created lt "2000-01-01T00:00:00Z""#, vec![]),
        (r#"id eq "not-an-id""#, vec![]),
        (
            r#"(userName sw "a" or userName sw "b") and not (userName ew ".com")"#,
            vec![ada],
        ),
    ] {
        assert_eq!(found(&scim, &q(filter)).await, expected, "{filter}");
    }
    let id = scim
        .get(&format!("/Users?{}", q(r#"userName eq "bob@example.com""#)))
        .await
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(found(&scim, &q(&format!("id eq \"{id}\""))).await, [bob]);
    // Another client does not see the first one's external ids.
    let other = Scim::new(&app, "Entra ID").await;
    assert!(found(&other, &q("externalId pr")).await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn sorting_and_pages(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    people(&scim).await;
    assert_eq!(
        found(&scim, "sortBy=userName&sortOrder=descending").await,
        [
            "dave@sample.net",
            "carol@example.org",
            "bob@example.com",
            "ada@example.org"
        ]
    );
    let page = scim
        .get("/Users?sortBy=userName&startIndex=2&count=2")
        .await;
    assert_eq!(page.body["totalResults"], 4);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(page.body["Resources"][0]["userName"], "bob@example.com");
    let none = scim.get("/Users?count=0").await;
    assert_eq!(none.body["totalResults"], 4);
    assert_eq!(none.body["Resources"], json!([]));
    // Below 1 reads as 1; more than the maximum reads as the maximum.
    assert_eq!(
        scim.get("/Users?startIndex=-5&count=9999").await.body["itemsPerPage"],
        4
    );
    // The same through POST /.search.
    let searched = scim
        .post(
            "/Users/.search",
            json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": "userName ew \".org\"", "sortBy": "userName", "count": 1,
                    "attributes": ["userName"] }),
        )
        .await;
    assert_eq!(searched.status, 200, "{}", searched.body);
    assert_eq!(searched.body["totalResults"], 2);
    assert_eq!(
        searched.body["Resources"][0],
        json!({ "schemas": [super::USER], "id": searched.body["Resources"][0]["id"],
                "userName": "ada@example.org" })
    );
    for bad in [
        "sortBy=password",
        "sortBy=userName&sortOrder=sideways",
        "count=many",
    ] {
        assert_error(
            &scim.get(&format!("/Users?{bad}")).await,
            400,
            Some("invalidValue"),
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_bad_filter_is_invalid_filter(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    people(&scim).await;
    for filter in [
        "userName",
        r#"userName eq "a"#,
        r#"password eq "x""#,
        r#"userName xx "a""#,
        "active co true",
        r#"active eq "yes""#,
        r#"meta.created gt "yesterday""#,
        r#"userName gt 3"#,
        r#"emails[value eq "a""#,
    ] {
        let res = scim
            .get(&format!("/Users?filter={}", urlencode(filter)))
            .await;
        assert_error(&res, 400, Some("invalidFilter"));
    }
}
