//! The filter parser and the in-memory matcher.

use serde_json::json;

use super::*;

fn path(attr: &str, sub: Option<&str>) -> AttrPath {
    AttrPath {
        attr: attr.into(),
        sub: sub.map(Into::into),
    }
}

fn eq(attr: &str, value: &str) -> Filter {
    Filter::Compare(path(attr, None), Op::Eq, Literal::Str(value.into()))
}

#[test]
fn every_operator_and_literal_parses() {
    for (op, expected) in [
        ("eq", Op::Eq),
        ("NE", Op::Ne),
        ("co", Op::Co),
        ("Sw", Op::Sw),
        ("ew", Op::Ew),
        ("gt", Op::Gt),
        ("ge", Op::Ge),
        ("lt", Op::Lt),
        ("le", Op::Le),
    ] {
        let parsed = parse(&format!("userName {op} \"a\"")).unwrap();
        assert_eq!(
            parsed,
            Filter::Compare(path("userName", None), expected, Literal::Str("a".into()))
        );
    }
    assert_eq!(
        parse("active eq true").unwrap(),
        Filter::Compare(path("active", None), Op::Eq, Literal::Bool(true))
    );
    assert_eq!(
        parse("x gt 1.5").unwrap(),
        Filter::Compare(path("x", None), Op::Gt, Literal::Num(1.5))
    );
    assert_eq!(
        parse("externalId eq null").unwrap(),
        Filter::Compare(path("externalId", None), Op::Eq, Literal::Null)
    );
    assert_eq!(
        parse("title pr").unwrap(),
        Filter::Present(path("title", None))
    );
}

#[test]
fn names_lose_their_schema_and_keep_their_sub_attribute() {
    let parsed = parse("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq \"Ada\"");
    assert_eq!(
        parsed.unwrap(),
        Filter::Compare(
            path("name", Some("givenName")),
            Op::Eq,
            Literal::Str("Ada".into())
        )
    );
    assert_eq!(path("name", Some("givenName")).key(), "name.givenname");
}

#[test]
fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
    let parsed = parse("a eq \"1\" or b eq \"2\" and not (c eq \"3\")").unwrap();
    let expected = Filter::Or(
        Box::new(eq("a", "1")),
        Box::new(Filter::And(
            Box::new(eq("b", "2")),
            Box::new(Filter::Not(Box::new(eq("c", "3")))),
        )),
    );
    assert_eq!(parsed, expected);
    let grouped = parse("(a eq \"1\" or b eq \"2\") and c eq \"3\"").unwrap();
    assert!(matches!(grouped, Filter::And(..)));
}

#[test]
fn value_paths_and_escaped_strings() {
    let parsed = parse("emails[type eq \"work\" and value co \"@example.org\"]").unwrap();
    assert!(matches!(parsed, Filter::ValuePath(ref a, _) if a == "emails"));
    assert_eq!(
        parse(r#"displayName eq "say \"hi\" \u00e9""#).unwrap(),
        eq("displayName", "say \"hi\" é")
    );
}

#[test]
fn malformed_and_hostile_filters_are_refused() {
    for bad in [
        "",
        "userName",
        "userName eq",
        "userName eq bob",
        "userName xx \"a\"",
        "userName eq \"a",
        "(userName eq \"a\"",
        "userName eq \"a\")",
        "not userName eq \"a\"",
        "userName eq \"a\" and",
        "emails[type eq \"work\"",
        "1abc eq \"a\"",
        "user;name eq \"a\"",
        "userName eq \"a\"; DROP TABLE users; --",
        "userName eq 'a' OR 1=1",
        "x eq NaN",
        r#"userName eq "\u0000""#,
        "userName eq \"a\u{7}\"",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} was accepted");
    }
    let deep = format!("{}a eq \"1\"{}", "(".repeat(100), ")".repeat(100));
    assert!(parse(&deep).is_err());
    let nots = format!("{}a eq \"1\"{}", "not (".repeat(40), ")".repeat(40));
    assert!(parse(&nots).is_err());
    assert!(parse(&"a eq \"1\" or ".repeat(500)).is_err());
}

#[test]
fn matching_a_json_value_ignores_case_and_treats_absence_as_unequal() {
    let member = json!({ "value": "ABC-1", "type": "User", "primary": true, "n": 3 });
    assert!(matches(&parse("value eq \"abc-1\"").unwrap(), &member));
    assert!(matches(
        &parse("VALUE sw \"ab\" and type ew \"er\"").unwrap(),
        &member
    ));
    assert!(matches(&parse("primary eq true").unwrap(), &member));
    assert!(matches(&parse("n ge 3 and n lt 4").unwrap(), &member));
    assert!(matches(&parse("display ne \"x\"").unwrap(), &member));
    assert!(!matches(&parse("display eq \"x\"").unwrap(), &member));
    assert!(matches(&parse("display eq null").unwrap(), &member));
    assert!(!matches(&parse("not (value co \"bc\")").unwrap(), &member));
    assert!(matches(&parse("value pr").unwrap(), &member));
    assert!(!matches(&parse("display pr").unwrap(), &member));
}
