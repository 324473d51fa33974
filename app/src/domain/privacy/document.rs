//! The export's two files: the machine-readable JSON (every table's rows about the person, as
//! the database holds them, and the tables left out with the reason) and a readable HTML page
//! of the same, one section per table. Both are built from one [`Document`].

use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::html::escape;

/// What the export holds.
#[derive(Debug, Clone)]
pub struct Document {
    pub account: Uuid,
    pub generated_at: OffsetDateTime,
    pub sections: Vec<Section>,
    /// Tables with rows about people that the export leaves out, and why.
    pub left_out: Vec<(&'static str, &'static str)>,
}

/// One table's rows about the person.
#[derive(Debug, Clone)]
pub struct Section {
    pub table: &'static str,
    /// The module that answers for the table.
    pub module: &'static str,
    /// Columns left out of every row (secrets, or hashes of secrets).
    pub without: &'static [&'static str],
    /// Columns left out of the rows where someone else acted (a staff member).
    pub others_redacted: &'static [&'static str],
    pub rows: Vec<Value>,
}

/// The version of the JSON file's layout.
pub const FORMAT: &str = "keyhaven-export/1";

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Document {
    /// How many rows it holds.
    pub fn row_count(&self) -> usize {
        self.sections.iter().map(|s| s.rows.len()).sum()
    }

    /// The JSON file.
    pub fn to_json(&self) -> Vec<u8> {
        let tables: serde_json::Map<String, Value> = self
            .sections
            .iter()
            .map(|s| {
                let section = json!({
                    "module": s.module,
                    "columns_left_out": s.without,
                    "columns_left_out_where_others_acted": s.others_redacted,
                    "rows": s.rows,
                });
                (s.table.to_owned(), section)
            })
            .collect();
        let left_out: serde_json::Map<String, Value> = self
            .left_out
            .iter()
            .map(|(table, why)| ((*table).to_owned(), Value::from(*why)))
            .collect();
        let file = json!({
            "format": FORMAT,
            "account": self.account,
            "generated_at": rfc3339(self.generated_at),
            "tables": tables,
            "not_exported": left_out,
        });
        serde_json::to_vec_pretty(&file).unwrap_or_default()
    }

    /// The readable page: self-contained, no script, no outside resource.
    pub fn to_html(&self) -> Vec<u8> {
        let mut page = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Your data</title><style>\
             body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;line-height:1.4}\
             table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}\
             th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;word-break:break-word}\
             th{background:#f3f4f6;width:14rem}\
             </style></head><body>\n",
        );
        page.push_str("<h1>Your data</h1>\n");
        page.push_str(&format!(
            "<p>Everything we hold about account <code>{}</code>, as of {} (UTC). \
             The JSON file of the same export holds the same rows for other programs.</p>\n",
            self.account,
            escape(&rfc3339(self.generated_at)),
        ));
        page.push_str("<nav aria-label=\"Contents\"><ul>\n");
        for s in &self.sections {
            page.push_str(&format!(
                "<li><a href=\"#{0}\">{0}</a> ({1})</li>\n",
                escape(s.table),
                s.rows.len()
            ));
        }
        page.push_str("</ul></nav>\n");
        for s in &self.sections {
            section_html(&mut page, s);
        }
        if !self.left_out.is_empty() {
            page.push_str("<section><h2>Not in this export</h2><ul>\n");
            for (table, why) in &self.left_out {
                page.push_str(&format!(
                    "<li><strong>{}</strong>: {}</li>\n",
                    escape(table),
                    escape(why)
                ));
            }
            page.push_str("</ul></section>\n");
        }
        page.push_str("</body></html>\n");
        page.into_bytes()
    }
}

fn section_html(page: &mut String, s: &Section) {
    page.push_str(&format!(
        "<section id=\"{0}\"><h2>{0}</h2>\n",
        escape(s.table)
    ));
    if !s.without.is_empty() {
        page.push_str(&format!(
            "<p>Left out for your safety: {}.</p>\n",
            escape(&s.without.join(", "))
        ));
    }
    if !s.others_redacted.is_empty() {
        page.push_str(&format!(
            "<p>Where our team acted on your account, their {} are left out.</p>\n",
            escape(&s.others_redacted.join(", "))
        ));
    }
    if s.rows.is_empty() {
        page.push_str("<p>Nothing.</p>\n");
    }
    for row in &s.rows {
        page.push_str("<table>\n");
        if let Value::Object(fields) = row {
            for (name, value) in fields {
                page.push_str(&format!(
                    "<tr><th scope=\"row\">{}</th><td>{}</td></tr>\n",
                    escape(name),
                    escape(&shown(value))
                ));
            }
        }
        page.push_str("</table>\n");
    }
    page.push_str("</section>\n");
}

/// A value as text: strings as they are, empty for null, JSON for the rest.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Document {
        Document {
            account: Uuid::nil(),
            generated_at: OffsetDateTime::UNIX_EPOCH,
            sections: vec![Section {
                table: "users",
                module: "domain::users",
                without: &["password_hash"],
                others_redacted: &[],
                rows: vec![json!({ "display_name": "<script>alert(1)</script>", "phone": null })],
            }],
            left_out: vec![("mail_outbox", "mail on its way")],
        }
    }

    #[test]
    fn the_json_file_holds_every_row_and_says_what_is_left_out() {
        let file: Value = serde_json::from_slice(&document().to_json()).unwrap();
        assert_eq!(file["format"], FORMAT);
        assert_eq!(
            file["tables"]["users"]["rows"][0]["display_name"],
            "<script>alert(1)</script>"
        );
        assert_eq!(
            file["tables"]["users"]["columns_left_out"][0],
            "password_hash"
        );
        assert_eq!(file["not_exported"]["mail_outbox"], "mail on its way");
    }

    #[test]
    fn the_page_escapes_what_people_wrote() {
        let page = String::from_utf8(document().to_html()).unwrap();
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("mail on its way"));
    }
}
