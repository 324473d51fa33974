//! A list request (RFC 7644 §3.4.2): its filter turned into SQL over a resource's attribute
//! catalogue, every value bound as a parameter (the catalogue's SQL comes from constants,
//! never from the request); `sortBy` and `sortOrder`; `startIndex` and `count`.

use sqlx::{Postgres, QueryBuilder};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use super::{
    filter::{self, AttrPath, Filter, FilterError, Literal, Op},
    ScimError, MAX_RESULTS,
};

/// What kind of value an attribute holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text; `exact` says whether case matters (`caseExact`).
    Text {
        exact: bool,
    },
    Bool,
    Time,
    /// Some row of a related table matches: `sql` holds `{}` where the condition on the
    /// related column (`column`) goes.
    Exists {
        column: &'static str,
    },
}

/// One filterable attribute: its lower-case key (`name.givenname`), the SQL giving its value
/// and its kind.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub key: &'static str,
    pub sql: &'static str,
    pub kind: Kind,
}

/// How a refusal of an attribute the resource type lacks begins.
pub const UNKNOWN_ATTRIBUTE: &str = "cannot filter or sort by";

fn column<'a>(columns: &'a [Column], path: &AttrPath) -> Result<&'a Column, FilterError> {
    let key = path.key();
    columns
        .iter()
        .find(|c| c.key == key)
        .ok_or_else(|| FilterError(format!("{UNKNOWN_ATTRIBUTE} {key:?}")))
}

/// Appends `filter` as a condition that is true or false, never NULL.
pub fn push_filter(
    q: &mut QueryBuilder<'_, Postgres>,
    filter: &Filter,
    columns: &[Column],
) -> Result<(), FilterError> {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => {
            q.push("(");
            push_filter(q, a, columns)?;
            q.push(if matches!(filter, Filter::And(..)) {
                " AND "
            } else {
                " OR "
            });
            push_filter(q, b, columns)?;
            q.push(")");
        }
        Filter::Not(a) => {
            q.push("NOT (");
            push_filter(q, a, columns)?;
            q.push(")");
        }
        Filter::ValuePath(parent, inner) => push_filter(q, &within(parent, inner), columns)?,
        Filter::Present(path) => {
            let c = column(columns, path)?;
            match c.kind {
                Kind::Exists { column } => {
                    let condition = format!("{column} IS NOT NULL");
                    q.push(c.sql.replace("{}", &condition));
                }
                Kind::Text { .. } => {
                    q.push(format!("COALESCE({} <> '', false)", c.sql));
                }
                _ => {
                    q.push(format!("({} IS NOT NULL)", c.sql));
                }
            }
        }
        Filter::Compare(path, op, literal) => {
            let c = column(columns, path)?;
            match c.kind {
                Kind::Exists { column } => {
                    let parts: Vec<&str> = c.sql.splitn(2, "{}").collect();
                    q.push(parts[0]);
                    compare(q, column, Kind::Text { exact: true }, *op, literal, path)?;
                    q.push(parts.get(1).copied().unwrap_or_default());
                }
                kind => compare(q, c.sql, kind, *op, literal, path)?,
            }
        }
    }
    Ok(())
}

/// `emails[type eq "work"]` reads as `emails.type eq "work"`.
fn within(parent: &str, inner: &Filter) -> Filter {
    let sub = |p: &AttrPath| AttrPath {
        attr: parent.to_owned(),
        sub: Some(p.attr.clone()),
    };
    match inner {
        Filter::And(a, b) => Filter::And(Box::new(within(parent, a)), Box::new(within(parent, b))),
        Filter::Or(a, b) => Filter::Or(Box::new(within(parent, a)), Box::new(within(parent, b))),
        Filter::Not(a) => Filter::Not(Box::new(within(parent, a))),
        Filter::Present(p) => Filter::Present(sub(p)),
        Filter::Compare(p, op, l) => Filter::Compare(sub(p), *op, l.clone()),
        Filter::ValuePath(..) => inner.clone(),
    }
}

fn compare(
    q: &mut QueryBuilder<'_, Postgres>,
    sql: &str,
    kind: Kind,
    op: Op,
    literal: &Literal,
    path: &AttrPath,
) -> Result<(), FilterError> {
    let name = path.key();
    if *literal == Literal::Null {
        return match op {
            Op::Eq => {
                q.push(format!("({sql} IS NULL)"));
                Ok(())
            }
            Op::Ne => {
                q.push(format!("({sql} IS NOT NULL)"));
                Ok(())
            }
            _ => Err(FilterError(format!(
                "{name}: null compares with eq or ne only"
            ))),
        };
    }
    // Absent values are unequal to everything, and match no other comparison.
    let (open, close) = match op {
        Op::Ne => ("COALESCE(", ", true)"),
        _ => ("COALESCE(", ", false)"),
    };
    match (kind, literal) {
        (Kind::Text { exact }, Literal::Str(value)) => {
            // co, sw and ew are LIKE patterns (the trigram and prefix indexes serve them), the
            // value's own wildcards escaped.
            let escaped = value
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let value = match op {
                Op::Co => format!("%{escaped}%"),
                Op::Sw => format!("{escaped}%"),
                Op::Ew => format!("%{escaped}"),
                _ => value.clone(),
            };
            let (e, v) = if exact {
                (sql.to_owned(), "$".to_owned())
            } else {
                (format!("lower({sql})"), "lower($)".to_owned())
            };
            let template = match op {
                Op::Eq => format!("{e} = {v}"),
                Op::Ne => format!("{e} <> {v}"),
                Op::Co | Op::Sw | Op::Ew => format!("{e} LIKE {v}"),
                Op::Gt => format!("{e} > {v}"),
                Op::Ge => format!("{e} >= {v}"),
                Op::Lt => format!("{e} < {v}"),
                Op::Le => format!("{e} <= {v}"),
            };
            q.push(open);
            let mut pieces = template.split('$').peekable();
            while let Some(piece) = pieces.next() {
                q.push(piece);
                if pieces.peek().is_some() {
                    q.push_bind(value.clone());
                }
            }
            q.push(close);
        }
        (Kind::Bool, Literal::Bool(value)) if matches!(op, Op::Eq | Op::Ne) => {
            q.push(format!(
                "{open}{sql} {} ",
                if op == Op::Eq { "=" } else { "<>" }
            ));
            q.push_bind(*value);
            q.push(close);
        }
        (Kind::Time, Literal::Str(value)) if !matches!(op, Op::Co | Op::Sw | Op::Ew) => {
            let at = OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
                FilterError(format!("{name}: {value:?} is not an RFC 3339 date-time"))
            })?;
            let symbol = match op {
                Op::Eq => "=",
                Op::Ne => "<>",
                Op::Gt => ">",
                Op::Ge => ">=",
                Op::Lt => "<",
                _ => "<=",
            };
            q.push(format!("{open}{sql} {symbol} "));
            q.push_bind(at);
            q.push(close);
        }
        _ => {
            return Err(FilterError(format!(
                "{name}: that operator or value does not fit this attribute"
            )))
        }
    }
    Ok(())
}

/// A list request's parameters, checked.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub filter: Option<Filter>,
    /// The catalogue's SQL for the sort, and whether descending.
    pub sort: Option<(&'static str, bool)>,
    /// 1-based.
    pub start_index: i64,
    pub count: i64,
}

impl ListRequest {
    /// Reads the request's `filter`, `sortBy`, `sortOrder`, `startIndex` and `count`.
    pub fn parse(
        filter: Option<&str>,
        sort_by: Option<&str>,
        sort_order: Option<&str>,
        start_index: Option<&str>,
        count: Option<&str>,
        columns: &[Column],
    ) -> Result<Self, ScimError> {
        let filter = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            Some(text) => Some(filter::parse(text)?),
            None => None,
        };
        let sort = match sort_by.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(name) => {
                let path = AttrPath::parse(name).ok_or_else(|| {
                    ScimError::invalid("invalidValue", "sortBy: not an attribute")
                })?;
                let c = column(columns, &path)
                    .map_err(|e| ScimError::invalid("invalidValue", format!("sortBy: {e}")))?;
                if matches!(c.kind, Kind::Exists { .. }) {
                    return Err(ScimError::value("sortBy: cannot sort by that attribute"));
                }
                let descending = match sort_order.map(str::trim) {
                    None | Some("") => false,
                    Some(o) if o.eq_ignore_ascii_case("ascending") => false,
                    Some(o) if o.eq_ignore_ascii_case("descending") => true,
                    Some(_) => {
                        return Err(ScimError::value(
                            "sortOrder must be ascending or descending",
                        ))
                    }
                };
                Some((c.sql, descending))
            }
        };
        let number = |name: &str, raw: Option<&str>, default: i64| -> Result<i64, ScimError> {
            match raw.map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(default),
                Some(text) => text
                    .parse::<i64>()
                    .map_err(|_| ScimError::value(format!("{name} must be an integer"))),
            }
        };
        Ok(Self {
            filter,
            sort,
            // RFC 7644 §3.4.2.4: below 1 is read as 1; a negative count as 0.
            start_index: number("startIndex", start_index, 1)?.max(1),
            count: number("count", count, MAX_RESULTS)?.clamp(0, MAX_RESULTS),
        })
    }

    /// Appends ` AND <filter>`, if any.
    pub fn push_where(
        &self,
        q: &mut QueryBuilder<'_, Postgres>,
        columns: &[Column],
    ) -> Result<(), ScimError> {
        if let Some(filter) = &self.filter {
            q.push(" AND ");
            push_filter(q, filter, columns)?;
        }
        Ok(())
    }

    /// Appends the order (the sort, then `default`) and the page.
    pub fn push_page(&self, q: &mut QueryBuilder<'_, Postgres>, default: &str) {
        q.push(" ORDER BY ");
        if let Some((sql, descending)) = self.sort {
            q.push(format!(
                "{sql} {} NULLS LAST, ",
                if descending { "DESC" } else { "ASC" }
            ));
        }
        q.push(default);
        q.push(" LIMIT ").push_bind(self.count);
        q.push(" OFFSET ").push_bind(self.start_index - 1);
    }
}
