//! SCIM filters (RFC 7644 §3.4.2.2) parsed into a tree: attribute expressions (`eq`, `ne`,
//! `co`, `sw`, `ew`, `gt`, `ge`, `lt`, `le`, `pr`), `and`, `or`, `not (…)`, grouping and value
//! paths (`emails[type eq "work"]`). Bounded in length and depth, so a hostile filter costs
//! nothing. The tree is turned into SQL with bound values (`query`) or evaluated over a JSON
//! value (`matches`, for PATCH paths); it never becomes SQL text itself.

use serde_json::Value;

/// The longest filter read.
pub const MAX_LEN: usize = 2048;
/// The deepest nesting of parentheses, `not` and value paths.
const MAX_DEPTH: usize = 16;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }
}

/// A literal compared against.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

/// An attribute, `name` or `name.sub`, its schema URN dropped; names as written (lookups
/// ignore case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub attr: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// `attr` or `attr.sub`, lower-cased: what attribute tables are keyed by.
    pub fn key(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}.{}", self.attr, sub).to_ascii_lowercase(),
            None => self.attr.to_ascii_lowercase(),
        }
    }

    /// Parses `[urn:…:]name[.sub]`.
    pub fn parse(raw: &str) -> Option<Self> {
        let name = strip_urn(raw.trim());
        let (attr, sub) = match name.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (name, None),
        };
        let valid = |n: &str| {
            n.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
        };
        if !valid(attr) || sub.is_some_and(|s| !valid(s)) {
            return None;
        }
        Some(Self {
            attr: attr.to_owned(),
            sub: sub.map(str::to_owned),
        })
    }
}

/// `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName` → `name.givenName`.
pub fn strip_urn(raw: &str) -> &str {
    if raw.len() > 4 && raw[..4].eq_ignore_ascii_case("urn:") {
        raw.rsplit_once(':').map_or(raw, |(_, name)| name)
    } else {
        raw
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrPath),
    Compare(AttrPath, Op, Literal),
    /// `attr[filter]`: some value of the multi-valued `attr` matches `filter`.
    ValuePath(String, Box<Filter>),
}

/// Why a filter was refused (`invalidFilter`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

fn fail<T>(why: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(why.into()))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn tokens(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                out.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                chars.next();
                let mut raw = String::from('"');
                let mut closed = false;
                while let Some(c) = chars.next() {
                    raw.push(c);
                    if c == '\\' {
                        if let Some(next) = chars.next() {
                            raw.push(next);
                        }
                    } else if c == '"' {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return fail("a string is not closed");
                }
                // A JSON string, escapes and all (RFC 7644 §3.4.2.2).
                let value: String = serde_json::from_str(&raw)
                    .map_err(|_| FilterError("a string is not valid JSON".into()))?;
                if value.chars().any(char::is_control) {
                    return fail("a string holds a control character");
                }
                out.push(Token::Str(value));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn deeper(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return fail("the filter is nested too deeply");
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.next();
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.next();
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        if self.peek_word("not") {
            self.next();
            if self.peek() != Some(&Token::Open) {
                return fail("`not` must be followed by a parenthesised filter");
            }
            return Ok(Filter::Not(Box::new(self.group()?)));
        }
        if self.peek() == Some(&Token::Open) {
            return self.group();
        }
        self.expression()
    }

    fn group(&mut self) -> Result<Filter, FilterError> {
        self.deeper()?;
        self.next();
        let inner = self.or()?;
        if self.next() != Some(Token::Close) {
            return fail("a parenthesis is not closed");
        }
        self.depth -= 1;
        Ok(inner)
    }

    fn expression(&mut self) -> Result<Filter, FilterError> {
        let Some(Token::Word(name)) = self.next() else {
            return fail("an attribute name was expected");
        };
        if self.peek() == Some(&Token::OpenBracket) {
            self.deeper()?;
            self.next();
            let path = AttrPath::parse(&name)
                .filter(|p| p.sub.is_none())
                .ok_or_else(|| FilterError(format!("{name:?} is not an attribute name")))?;
            let inner = self.or()?;
            if self.next() != Some(Token::CloseBracket) {
                return fail("a value filter's bracket is not closed");
            }
            self.depth -= 1;
            return Ok(Filter::ValuePath(path.attr, Box::new(inner)));
        }
        let path = AttrPath::parse(&name)
            .ok_or_else(|| FilterError(format!("{name:?} is not an attribute name")))?;
        let Some(Token::Word(op)) = self.next() else {
            return fail(format!("an operator was expected after {name}"));
        };
        if op.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let op = Op::parse(&op).ok_or_else(|| FilterError(format!("unknown operator {op:?}")))?;
        let value = match self.next() {
            Some(Token::Str(s)) => Literal::Str(s),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                "null" => Literal::Null,
                _ => match w.parse::<f64>() {
                    Ok(n) if n.is_finite() => Literal::Num(n),
                    _ => return fail(format!("{w:?} is not a value (strings are quoted)")),
                },
            },
            _ => return fail(format!("a value was expected after {name} {op:?}")),
        };
        Ok(Filter::Compare(path, op, value))
    }
}

/// Parses a filter.
pub fn parse(text: &str) -> Result<Filter, FilterError> {
    if text.len() > MAX_LEN {
        return fail(format!("a filter may be at most {MAX_LEN} bytes"));
    }
    let mut parser = Parser {
        tokens: tokens(text)?,
        at: 0,
        depth: 0,
    };
    if parser.tokens.is_empty() {
        return fail("the filter is empty");
    }
    let filter = parser.or()?;
    if parser.at != parser.tokens.len() {
        return fail("the filter goes on after its end");
    }
    Ok(filter)
}

/// Whether the JSON `value` (one value of a multi-valued attribute) matches `filter`, its
/// attribute names read as its members (case ignored; strings compared ignoring case).
pub fn matches(filter: &Filter, value: &Value) -> bool {
    let member = |path: &AttrPath| -> Option<&Value> {
        let object = value.as_object()?;
        let first = object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&path.attr))
            .map(|(_, v)| v)?;
        match &path.sub {
            None => Some(first),
            Some(sub) => first
                .as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(sub))
                .map(|(_, v)| v),
        }
    };
    match filter {
        Filter::And(a, b) => matches(a, value) && matches(b, value),
        Filter::Or(a, b) => matches(a, value) || matches(b, value),
        Filter::Not(a) => !matches(a, value),
        Filter::Present(path) => member(path).is_some_and(|v| !v.is_null() && v != ""),
        Filter::ValuePath(..) => false,
        Filter::Compare(path, op, literal) => compare(member(path), *op, literal),
    }
}

fn compare(found: Option<&Value>, op: Op, literal: &Literal) -> bool {
    use std::cmp::Ordering;
    let found = found.filter(|v| !v.is_null());
    let ordering = match (found, literal) {
        (None, Literal::Null) => return op == Op::Eq,
        (None, _) => return op == Op::Ne,
        (Some(_), Literal::Null) => return op == Op::Ne,
        (Some(Value::String(s)), Literal::Str(l)) => {
            let (s, l) = (s.to_lowercase(), l.to_lowercase());
            match op {
                Op::Co => return s.contains(&l),
                Op::Sw => return s.starts_with(&l),
                Op::Ew => return s.ends_with(&l),
                _ => s.cmp(&l),
            }
        }
        (Some(Value::Bool(b)), Literal::Bool(l)) => b.cmp(l),
        (Some(Value::Number(n)), Literal::Num(l)) => n
            .as_f64()
            .and_then(|n| n.partial_cmp(l))
            .unwrap_or(Ordering::Less),
        _ => return op == Op::Ne,
    };
    match op {
        Op::Eq => ordering == Ordering::Equal,
        Op::Ne => ordering != Ordering::Equal,
        Op::Gt => ordering == Ordering::Greater,
        Op::Ge => ordering != Ordering::Less,
        Op::Lt => ordering == Ordering::Less,
        Op::Le => ordering != Ordering::Greater,
        Op::Co | Op::Sw | Op::Ew => false,
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
