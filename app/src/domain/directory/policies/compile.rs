//! Checks an app's schema and policies as a whole and keeps them parsed: the schema parses
//! and declares `Person` and `Group` as the service supplies them; every policy parses and
//! validates against the schema (Cedar's validator, strict mode); policies are named by their
//! `@id` annotation, else Cedar's generated id. A refusal carries Cedar's own messages.

use std::str::FromStr;

use cedar_policy::{PolicyId, PolicySet, Schema, ValidationMode, Validator};

use super::{described, entities::Person, PolicyError, MAX_TEXT};

/// An app's schema and policy set, parsed and validated.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub schema: Schema,
    pub policies: PolicySet,
}

/// Parses and validates `schema` and `policies` together; Cedar's messages when refused.
pub fn compile(schema: &str, policies: &str) -> Result<Compiled, PolicyError> {
    if schema.len() > MAX_TEXT || policies.len() > MAX_TEXT {
        return Err(PolicyError::TooLarge);
    }
    let (schema, _warnings) = Schema::from_cedarschema_str(schema)
        .map_err(|e| PolicyError::Schema(vec![described(&e)]))?;
    Person::check_schema(&schema).map_err(|e| PolicyError::Schema(vec![e]))?;
    let parsed =
        PolicySet::from_str(policies).map_err(|e| PolicyError::Policies(vec![described(&e)]))?;
    if parsed.templates().next().is_some() {
        return Err(PolicyError::Policies(vec![
            "templates (policies with ?principal or ?resource) are not supported".into(),
        ]));
    }
    if parsed.is_empty() {
        return Err(PolicyError::Policies(vec!["there are no policies".into()]));
    }
    let policies = named(parsed)?;
    let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
    if !result.validation_passed() {
        return Err(PolicyError::Policies(
            result.validation_errors().map(|e| described(e)).collect(),
        ));
    }
    Ok(Compiled { schema, policies })
}

/// The same policies, each under its `@id` annotation if it has one.
fn named(parsed: PolicySet) -> Result<PolicySet, PolicyError> {
    let mut named = PolicySet::new();
    for policy in parsed.policies() {
        let policy = match policy.annotation("id") {
            Some(id) if id.trim().is_empty() => {
                return Err(PolicyError::Policies(vec![format!(
                    "policy {} has an empty @id",
                    policy.id()
                )]))
            }
            Some(id) => policy.new_id(PolicyId::new(id)),
            None => policy.clone(),
        };
        let id = policy.id().to_string();
        named.add(policy).map_err(|e| {
            PolicyError::Policies(vec![format!(
                "two policies are named {id:?}: {}",
                described(&e)
            )])
        })?;
    }
    Ok(named)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SCHEMA: &str = r#"
        entity Group;
        entity Person in [Group] {
            roles: Set<String>, permissions: Set<String>, email_verified: Bool,
            country?: String, region?: String,
        };
        entity Ticket { region: String };
        action read appliesTo { principal: Person, resource: Ticket, context: { hour: Long } };
    "#;

    fn refused(schema: &str, policies: &str) -> String {
        compile(schema, policies).unwrap_err().to_string()
    }

    #[test]
    fn policies_are_named_by_their_id_annotation_else_by_cedar() {
        let compiled = compile(
            SCHEMA,
            r#"@id("agents") permit (principal, action, resource) when { principal.roles.contains("a") };
               permit (principal, action == Action::"read", resource);"#,
        )
        .unwrap();
        let mut ids: Vec<String> = compiled
            .policies
            .policies()
            .map(|p| p.id().to_string())
            .collect();
        ids.sort();
        assert_eq!(ids, ["agents", "policy1"]);
    }

    #[test]
    fn type_errors_unknown_attributes_and_syntax_errors_are_refused_in_cedars_words() {
        let wrong_type = refused(
            SCHEMA,
            r#"permit (principal, action, resource) when { resource.region == context.hour };"#,
        );
        assert!(wrong_type.contains("policies are refused"), "{wrong_type}");
        let unknown = refused(
            SCHEMA,
            "permit (principal, action, resource) when { resource.colour == \"red\" };",
        );
        assert!(unknown.contains("colour"), "{unknown}");
        let syntax = refused(SCHEMA, "permit (principal, action, resource) when {");
        assert!(syntax.contains("policies are refused"), "{syntax}");
        let twice = refused(
            SCHEMA,
            r#"@id("x") permit (principal, action, resource); @id("x") forbid (principal, action, resource);"#,
        );
        assert!(twice.contains("\"x\""), "{twice}");
    }

    #[test]
    fn the_schema_must_parse_and_declare_the_person_as_supplied() {
        assert!(
            refused("entity Person {", "permit (principal, action, resource);")
                .contains("schema is refused")
        );
        let no_roles = refused(
            "entity Group; entity Person in [Group]; entity T; action read appliesTo { principal: Person, resource: T };",
            "permit (principal, action, resource);",
        );
        assert!(no_roles.contains("schema is refused"), "{no_roles}");
    }
}
