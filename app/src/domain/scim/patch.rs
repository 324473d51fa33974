//! PATCH (RFC 7644 §3.5.2): the request read into operations (`add`, `remove`, `replace`,
//! named in any case, as Entra ID writes them), each applied in turn to a copy of the
//! resource's JSON. Paths are `attr`, `attr.sub`, `attr[filter]` and `attr[filter].sub`, their
//! names matched case-insensitively against the resource's attributes (an unknown one is
//! `invalidPath`). The caller then checks that nothing read-only changed and parses the result
//! like a PUT's body, so a PATCH can do no more than a PUT could.

use serde_json::{Map, Value};

use super::{
    filter::{self, strip_urn, Filter},
    ScimError, PATCH_SCHEMA,
};

/// The most operations one request may hold.
const MAX_OPERATIONS: usize = 1000;

/// One attribute of a resource as PATCH sees it.
#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    pub name: &'static str,
    pub multi: bool,
    /// Sub-attributes of a complex attribute.
    pub subs: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Add,
    Remove,
    Replace,
}

/// Where an operation applies.
#[derive(Debug, Clone)]
pub struct Path {
    pub attr: &'static Attribute,
    pub filter: Option<Filter>,
    pub sub: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub kind: Kind,
    pub path: Option<Path>,
    pub value: Option<Value>,
}

fn find<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

fn sub_of(attr: &Attribute, name: &str) -> Result<&'static str, ScimError> {
    attr.subs
        .iter()
        .find(|s| s.eq_ignore_ascii_case(name))
        .copied()
        .ok_or_else(|| ScimError::path(format!("{} has no sub-attribute {name:?}", attr.name)))
}

/// Parses a path against `attributes`.
pub fn parse_path(raw: &str, attributes: &'static [Attribute]) -> Result<Path, ScimError> {
    let raw = raw.trim();
    let (head, filter_text, tail) = match raw.find('[') {
        Some(open) => {
            let close = raw
                .rfind(']')
                .filter(|&c| c > open)
                .ok_or_else(|| ScimError::path("a value filter's bracket is not closed"))?;
            (&raw[..open], Some(&raw[open + 1..close]), &raw[close + 1..])
        }
        None => (raw, None, ""),
    };
    let head = strip_urn(head);
    let (name, mut sub) = match head.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (head, None),
    };
    if filter_text.is_some() {
        if sub.is_some() {
            return Err(ScimError::path(format!("{raw:?} is not a path")));
        }
        sub = match tail {
            "" => None,
            t => Some(
                t.strip_prefix('.')
                    .ok_or_else(|| ScimError::path(format!("{raw:?} is not a path")))?,
            ),
        };
    }
    let attr = find(attributes, name)
        .ok_or_else(|| ScimError::path(format!("no attribute {name:?} can be changed here")))?;
    let filter = match filter_text {
        Some(text) => {
            if !attr.multi {
                return Err(ScimError::path(format!(
                    "{} is not multi-valued",
                    attr.name
                )));
            }
            Some(filter::parse(text).map_err(|e| ScimError::path(e.0))?)
        }
        None => None,
    };
    let sub = sub.map(|s| sub_of(attr, s)).transpose()?;
    Ok(Path { attr, filter, sub })
}

/// Reads a PATCH request's body.
pub fn parse_request(
    body: &Value,
    attributes: &'static [Attribute],
) -> Result<Vec<Operation>, ScimError> {
    let syntax = |why: &str| ScimError::invalid("invalidSyntax", why.to_owned());
    let schemas = body["schemas"]
        .as_array()
        .ok_or_else(|| syntax("a PATCH request names its schema"))?;
    if !schemas.iter().any(|s| s == PATCH_SCHEMA) {
        return Err(syntax("a PATCH request's schema is the PatchOp message's"));
    }
    let raw = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| syntax("a PATCH request holds Operations"))?;
    if raw.is_empty() || raw.len() > MAX_OPERATIONS {
        return Err(syntax("a PATCH request holds 1 to 1000 operations"));
    }
    raw.iter()
        .map(|op| {
            let kind = match op["op"].as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("add") => Kind::Add,
                Some("remove") => Kind::Remove,
                Some("replace") => Kind::Replace,
                _ => return Err(syntax("an operation's op is add, remove or replace")),
            };
            let path = match &op["path"] {
                Value::Null => None,
                Value::String(p) if p.trim().is_empty() => None,
                Value::String(p) => Some(parse_path(p, attributes)?),
                _ => return Err(syntax("an operation's path is a string")),
            };
            let value = op.get("value").cloned();
            match (kind, &path, &value) {
                (Kind::Remove, None, _) => Err(ScimError::invalid(
                    "noTarget",
                    "a remove operation names its path",
                )),
                (Kind::Add | Kind::Replace, _, None) => {
                    Err(syntax("an add or replace operation carries a value"))
                }
                _ => Ok(Operation { kind, path, value }),
            }
        })
        .collect()
}

/// Applies `operations` to `doc` in turn.
pub fn apply(
    doc: &mut Map<String, Value>,
    operations: &[Operation],
    attributes: &'static [Attribute],
) -> Result<(), ScimError> {
    for op in operations {
        match (&op.path, &op.value) {
            (Some(path), value) => at_path(doc, op.kind, path, value.as_ref())?,
            (None, Some(Value::Object(values))) => {
                for (key, value) in values {
                    let path = parse_path(key, attributes)?;
                    at_path(doc, op.kind, &path, Some(value))?;
                }
            }
            (None, _) => {
                return Err(ScimError::invalid(
                    "invalidSyntax",
                    "without a path, the value is an object of attributes",
                ))
            }
        }
    }
    Ok(())
}

/// `value` with the sub-attribute names of `attr` in their canonical case.
fn canonical(attr: &Attribute, value: &Value) -> Value {
    match value {
        Value::Object(fields) if !attr.subs.is_empty() => Value::Object(
            fields
                .iter()
                .map(|(k, v)| {
                    let key = sub_of(attr, k).map_or_else(|_| k.clone(), str::to_owned);
                    (key, v.clone())
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge(target: &mut Value, attr: &Attribute, value: &Value) {
    match (target.as_object_mut(), canonical(attr, value)) {
        (Some(existing), Value::Object(new)) => {
            for (k, v) in new {
                if v.is_null() {
                    existing.remove(&k);
                } else {
                    existing.insert(k, v);
                }
            }
        }
        (_, new) => *target = new,
    }
}

fn at_path(
    doc: &mut Map<String, Value>,
    kind: Kind,
    path: &Path,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let attr = path.attr;
    let name = attr.name;
    let no_target = || ScimError::invalid("noTarget", format!("no value of {name} matches"));
    if let Some(filter) = &path.filter {
        let Some(Value::Array(items)) = doc.get_mut(name) else {
            return match kind {
                Kind::Remove => Ok(()),
                _ => Err(no_target()),
            };
        };
        let hits: Vec<usize> = (0..items.len())
            .filter(|&i| filter::matches(filter, &items[i]))
            .collect();
        if hits.is_empty() {
            return match kind {
                Kind::Remove => Ok(()),
                _ => Err(no_target()),
            };
        }
        for &i in hits.iter().rev() {
            match (kind, path.sub, value) {
                (Kind::Remove, None, _) => {
                    items.remove(i);
                }
                (Kind::Remove, Some(sub), _) => {
                    if let Some(o) = items[i].as_object_mut() {
                        o.remove(sub);
                    }
                }
                (_, Some(sub), Some(v)) => {
                    if let Some(o) = items[i].as_object_mut() {
                        o.insert(sub.to_owned(), v.clone());
                    }
                }
                (_, None, Some(v)) => merge(&mut items[i], attr, v),
                (_, _, None) => {}
            }
        }
        if items.is_empty() {
            doc.remove(name);
        }
        return Ok(());
    }
    if let Some(sub) = path.sub {
        match (kind, doc.get_mut(name)) {
            (Kind::Remove, Some(Value::Object(o))) => {
                o.remove(sub);
            }
            (Kind::Remove, Some(Value::Array(items))) => {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    item.remove(sub);
                }
            }
            (Kind::Remove, _) => {}
            (_, Some(Value::Array(items))) => {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    item.insert(sub.to_owned(), value.cloned().unwrap_or(Value::Null));
                }
            }
            (_, Some(Value::Object(o))) => {
                o.insert(sub.to_owned(), value.cloned().unwrap_or(Value::Null));
            }
            (_, _) => {
                let mut o = Map::new();
                o.insert(sub.to_owned(), value.cloned().unwrap_or(Value::Null));
                doc.insert(name.to_owned(), Value::Object(o));
            }
        }
        if doc
            .get(name)
            .and_then(Value::as_object)
            .is_some_and(|o| o.values().all(Value::is_null))
        {
            doc.remove(name);
        }
        return Ok(());
    }
    match (kind, value) {
        (Kind::Remove, Some(Value::Array(gone))) if attr.multi => {
            // Entra ID removes members by value: `{"op":"remove","path":"members","value":[…]}`.
            if let Some(Value::Array(items)) = doc.get_mut(name) {
                items.retain(|item| {
                    !gone
                        .iter()
                        .any(|g| g.get("value").is_some() && g.get("value") == item.get("value"))
                });
                if items.is_empty() {
                    doc.remove(name);
                }
            }
        }
        (Kind::Remove, _) | (_, Some(Value::Null)) | (_, None) => {
            doc.remove(name);
        }
        (Kind::Add, Some(v)) if attr.multi => {
            let new: Vec<Value> = match v {
                Value::Array(vs) => vs.iter().map(|v| canonical(attr, v)).collect(),
                v => vec![canonical(attr, v)],
            };
            let items = doc
                .entry(name.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if !items.is_array() {
                *items = Value::Array(Vec::new());
            }
            if let Value::Array(items) = items {
                for v in new {
                    if !items.contains(&v) {
                        items.push(v);
                    }
                }
            }
        }
        (Kind::Replace, Some(v)) if attr.multi => {
            let new: Vec<Value> = match v {
                Value::Array(vs) => vs.iter().map(|v| canonical(attr, v)).collect(),
                v => vec![canonical(attr, v)],
            };
            doc.insert(name.to_owned(), Value::Array(new));
        }
        (_, Some(v)) if !attr.subs.is_empty() => {
            let target = doc
                .entry(name.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            merge(target, attr, v);
        }
        (_, Some(v)) => {
            doc.insert(name.to_owned(), v.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
