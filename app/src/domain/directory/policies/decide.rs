//! An app's question, "may this person do this to that?", answered by its policies: the
//! person read from the directory in one query (with the app's current policy version), the
//! policies parsed once per version and node (`PolicyCache`), recent answers kept per node
//! (`DecisionCache`, keyed by a hash of everything the answer depends on: the app, the policy
//! version, the person as loaded and the request, so a changed role or group is never
//! answered from memory). Both caches are emptied by the `app_policies_changed` notice.

use std::sync::Arc;

use cedar_policy::{Authorizer, Context, Decision as CedarDecision, Request};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    compile::{compile, Compiled},
    described,
    entities::{bounded, entities, uid, Person},
    PolicyError, MAX_ATTRIBUTES,
};
use crate::{
    domain::oidc::{clients::Client, notice_cache::NoticeCache, subjects},
    state::AppState,
};

/// Parsed policy sets by app and version.
pub type PolicyCache = NoticeCache<(String, i64), Compiled>;
/// Recent answers by the hash of what they depend on (a refusal is an answer too).
pub type DecisionCache = NoticeCache<[u8; 32], Result<Decision, String>>;

/// The most parsed policy sets a node holds.
pub const MAX_POLICY_SETS: usize = 1_000;
/// The most answers a node holds.
pub const MAX_DECISIONS: usize = 10_000;

/// What an app asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRequest {
    /// The `sub` the app knows the person by.
    pub subject: String,
    /// The action's id (`Action::"<action>"`).
    pub action: String,
    pub resource: super::Resource,
    /// A record, checked against the action's context type.
    #[serde(default)]
    pub context: Map<String, Value>,
}

impl DecisionRequest {
    fn check(&self) -> Result<(), String> {
        bounded("subject", &self.subject)?;
        bounded("action", &self.action)?;
        self.resource.check()?;
        if self.context.len() > MAX_ATTRIBUTES {
            return Err(format!(
                "the context may have at most {MAX_ATTRIBUTES} fields"
            ));
        }
        Ok(())
    }
}

/// Cedar's answer: allowed or not, the ids of the policies that decided it (the permits that
/// allowed it, or the forbids that denied it; none when nothing permitted), and the errors
/// of policies that could not be evaluated (they count as not applying).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allow: bool,
    pub policies: Vec<String>,
    pub errors: Vec<String>,
}

impl Default for PolicyCache {
    fn default() -> Self {
        Self::new(MAX_POLICY_SETS)
    }
}

impl Default for DecisionCache {
    fn default() -> Self {
        Self::new(MAX_DECISIONS)
    }
}

/// Evaluates `request` about `person` by `compiled`, in memory; why not when the request
/// does not fit the schema.
pub fn evaluate(
    compiled: &Compiled,
    person: &Person,
    request: &DecisionRequest,
) -> Result<Decision, String> {
    let schema = &compiled.schema;
    let action = uid("Action", &request.action)?;
    let resource = request.resource.uid()?;
    let context = Context::from_json_value(
        Value::Object(request.context.clone()),
        Some((schema, &action)),
    )
    .map_err(|e| format!("the context does not fit the schema: {}", described(&e)))?;
    let cedar_request = Request::new(person.uid(), action, resource, context, Some(schema))
        .map_err(|e| format!("the request does not fit the schema: {}", described(&e)))?;
    let entities = entities(schema, person, &request.resource)?;
    let response = Authorizer::new().is_authorized(&cedar_request, &compiled.policies, &entities);
    let mut policies: Vec<String> = response
        .diagnostics()
        .reason()
        .map(|id| id.to_string())
        .collect();
    policies.sort();
    Ok(Decision {
        allow: response.decision() == CedarDecision::Allow,
        policies,
        errors: response
            .diagnostics()
            .errors()
            .map(|e| described(e))
            .collect(),
    })
}

/// The person as `client` knows them by `sub`, and the app's current policy version: one
/// query. A public `sub` is an account that approved the app (any account for a first-party
/// app); a pairwise one must have been given to the app's sector.
async fn load(
    state: &AppState,
    client: &Client,
    sub: &str,
) -> sqlx::Result<(Option<i64>, Option<Person>)> {
    let sector = subjects::sector(client);
    let account: Option<Uuid> = match sector {
        None => sub.parse().ok(),
        Some(_) => None,
    };
    type Row = (
        Option<i64>,
        Option<Uuid>,
        Option<bool>,
        Option<String>,
        Option<String>,
        Vec<String>,
        Vec<String>,
        Vec<String>,
    );
    let row: Row = sqlx::query_as(
        "WITH who AS (
             SELECT u.id, u.email_verified_at IS NOT NULL AS email_verified FROM users u
             WHERE u.id = CASE WHEN $3::text IS NULL THEN $2::uuid ELSE
                     (SELECT s.user_id FROM pairwise_subjects s
                      WHERE s.sector = $3 AND s.sub = $4) END
               AND ($3 IS NOT NULL OR $5 OR EXISTS (
                     SELECT 1 FROM oauth_grants g WHERE g.user_id = u.id AND g.client_id = $1))
         ),
         held AS (
             SELECT a.role_id FROM who JOIN role_assignments a ON a.user_id = who.id
             UNION
             SELECT a.role_id FROM who JOIN group_members m ON m.user_id = who.id
             JOIN role_assignments a ON a.group_id = m.group_id
         )
         SELECT v.version, w.id, w.email_verified, p.country, p.region,
                ARRAY(SELECT r.name FROM held JOIN app_roles r
                      ON r.id = held.role_id AND r.client_id = $1 ORDER BY r.name),
                ARRAY(SELECT DISTINCT g.permission FROM held JOIN app_role_permissions g
                      ON g.role_id = held.role_id AND g.client_id = $1 ORDER BY g.permission),
                ARRAY(SELECT gr.name FROM group_members m JOIN groups gr ON gr.id = m.group_id
                      WHERE m.user_id = w.id ORDER BY gr.name)
         FROM (SELECT (SELECT version FROM app_policies WHERE client_id = $1) AS version) v
         LEFT JOIN who w ON true
         LEFT JOIN postal_addresses p ON p.user_id = w.id",
    )
    .bind(&client.id)
    .bind(account)
    .bind(sector)
    .bind(sub)
    .bind(client.first_party)
    .fetch_one(&state.db)
    .await?;
    let (version, id, email_verified, country, region, roles, permissions, groups) = row;
    let person = id.map(|_| Person {
        sub: sub.to_owned(),
        roles,
        permissions,
        groups,
        email_verified: email_verified.unwrap_or(false),
        country,
        region,
    });
    Ok((version, person))
}

/// `client_id`'s policies at `version`, parsed (from memory while notices arrive).
async fn policies(
    state: &AppState,
    client_id: &str,
    version: i64,
) -> Result<Arc<Compiled>, PolicyError> {
    let mut stale = None;
    let found = state
        .policies
        .get_or_load(&(client_id.to_owned(), version), || async {
            let texts: Option<(String, String)> = sqlx::query_as(
                "SELECT schema, policies FROM app_policies WHERE client_id = $1 AND version = $2",
            )
            .bind(client_id)
            .bind(version)
            .fetch_optional(&state.db)
            .await?;
            let Some((schema, policies)) = texts else {
                return Ok(None);
            };
            match compile(&schema, &policies) {
                Ok(compiled) => Ok(Some(compiled)),
                Err(e) => {
                    stale = Some(e.to_string());
                    Ok(None)
                }
            }
        })
        .await?;
    match (found, stale) {
        (Some(compiled), _) => Ok(compiled),
        (None, Some(why)) => Err(PolicyError::Stale(why)),
        // Changed meanwhile: the newer version decides.
        (None, None) => Err(PolicyError::Conflict),
    }
}

/// The hash an answer is kept under: everything it depends on.
fn key(client_id: &str, version: i64, person: &Person, request: &DecisionRequest) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(client_id.as_bytes());
    hash.update([0]);
    hash.update(version.to_be_bytes());
    hash.update(serde_json::to_vec(person).expect("serialisable"));
    hash.update([0]);
    hash.update(serde_json::to_vec(request).expect("serialisable"));
    hash.finalize().into()
}

/// Answers `client`'s `request` by its policies.
pub async fn decide(
    state: &AppState,
    client: &Client,
    request: &DecisionRequest,
) -> Result<Decision, PolicyError> {
    request.check().map_err(PolicyError::BadRequest)?;
    let (version, person) = load(state, client, &request.subject).await?;
    let version = version.ok_or(PolicyError::NoPolicies)?;
    let person = person.ok_or(PolicyError::UnknownSubject)?;
    let compiled = policies(state, &client.id, version).await?;
    let key = key(&client.id, version, &person, request);
    let answer = state
        .decisions
        .get_or_load(&key, || async {
            Ok(Some(evaluate(&compiled, &person, request)))
        })
        .await?
        .expect("always an answer");
    (*answer).clone().map_err(PolicyError::BadRequest)
}
