//! A brand's stylesheet: its colours, font and custom CSS variables as custom properties on
//! `:root`, which the site's own stylesheet reads. Served as a file, so the CSP needs no inline
//! styles; every value in it was checked on the way in ([`parse_vars`], [`parse_color`]).

use std::collections::BTreeMap;

/// At most this many custom variables per brand.
const MAX_VARS: usize = 30;
const MAX_VALUE: usize = 100;

/// The font stack of each font choice (fonts the reader's system has: nothing is loaded from
/// elsewhere).
pub fn font_stack(font: &str) -> Option<&'static str> {
    Some(match font {
        "system" => "system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif",
        "humanist" => "\"Gill Sans\", \"Gill Sans MT\", Calibri, \"Trebuchet MS\", sans-serif",
        "serif" => "Georgia, Cambria, \"Times New Roman\", serif",
        "rounded" => "ui-rounded, \"SF Pro Rounded\", \"Nunito\", \"Varela Round\", sans-serif",
        "mono" => "ui-monospace, \"SFMono-Regular\", Menlo, Consolas, monospace",
        _ => return None,
    })
}

/// A colour as `#rrggbb` (lower case), or why not.
pub fn parse_color(raw: &str) -> Result<String, &'static str> {
    let value = raw.trim().to_ascii_lowercase();
    let hex = value.strip_prefix('#').unwrap_or("");
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value)
    } else {
        Err("A colour as #rrggbb, for example #3a4fd8.")
    }
}

/// The contrast ratio (WCAG 2.2: 1 to 21) of two colours given as `#rrggbb`.
pub fn contrast(a: &str, b: &str) -> f64 {
    let luminance = |colour: &str| {
        let channel = |i: usize| {
            let byte = u8::from_str_radix(colour.get(1 + 2 * i..3 + 2 * i).unwrap_or("00"), 16)
                .unwrap_or(0);
            let c = f64::from(byte) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
    };
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// Custom variables, one `--name: value` per line, or why not. Names are lower case with
/// dashes and may not be the brand's own (`--brand-…`); values are plain CSS values: no
/// `url(…)`, no quotes, braces, semicolons, backslashes or at-rules, so nothing loads from
/// elsewhere and nothing breaks out of its declaration.
pub fn parse_vars(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut vars = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim().trim_end_matches(';').trim();
        if line.is_empty() {
            continue;
        }
        let at = |why: &str| format!("Line {}: {why}", n + 1);
        let Some((name, value)) = line.split_once(':') else {
            return Err(at("write it as --name: value."));
        };
        let (name, value) = (name.trim(), value.trim());
        let body = name.strip_prefix("--").unwrap_or("");
        let name_ok = (1..=40).contains(&body.len())
            && body.starts_with(|c: char| c.is_ascii_lowercase())
            && body
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(at(
                "a name is -- then lower-case letters, digits and dashes.",
            ));
        }
        if body.starts_with("brand-") {
            return Err(at("--brand-… variables come from the fields above."));
        }
        let lower = value.to_ascii_lowercase();
        let value_ok = (1..=MAX_VALUE).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " #.,%()+-*/".contains(c))
            && !["url(", "image(", "image-set(", "element(", "expression("]
                .iter()
                .any(|f| lower.contains(f));
        if !value_ok {
            return Err(at(
                "a value is at most 100 characters of letters, digits, spaces and # . , % ( ) + - * /, and loads nothing (no url()).",
            ));
        }
        vars.insert(name.to_owned(), value.to_owned());
        if vars.len() > MAX_VARS {
            return Err(format!("At most {MAX_VARS} custom variables."));
        }
    }
    Ok(vars)
}

/// What a stylesheet is made of.
#[derive(Debug, Clone, Copy)]
pub struct Look<'a> {
    pub primary: &'a str,
    pub accent: &'a str,
    pub background: &'a str,
    pub text: &'a str,
    pub font: &'a str,
    pub vars: &'a BTreeMap<String, String>,
}

/// The stylesheet of `look`.
pub fn stylesheet(look: &Look<'_>) -> String {
    let mut css = format!(
        ":root {{\n  --brand-primary: {};\n  --brand-accent: {};\n  --background: {};\n  \
         --text: {};\n  --brand-font: {};\n",
        look.primary,
        look.accent,
        look.background,
        look.text,
        font_stack(look.font).unwrap_or_default()
    );
    for (name, value) in look.vars {
        css.push_str(&format!("  {name}: {value};\n"));
    }
    css.push_str("}\n");
    css
}

impl super::Brand {
    /// This brand's stylesheet.
    pub fn stylesheet(&self) -> String {
        stylesheet(&Look {
            primary: &self.primary_color,
            accent: &self.accent_color,
            background: &self.background_color,
            text: &self.text_color,
            font: &self.font,
            vars: &self.css_vars.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_pass_and_loading_or_escaping_ones_do_not() {
        let vars = parse_vars("--radius: 4px\n\n--surface: #fafafa;\n").unwrap();
        assert_eq!(vars["--radius"], "4px");
        assert_eq!(vars["--surface"], "#fafafa");
        for bad in [
            "--logo: url(https://evil.example/x.png)",
            "--x: red; } body { display: none",
            "--x: \"quoted\"",
            "--x: a\\62 c",
            "--brand-primary: #000000",
            "--Upper: 1px",
            "radius: 1px",
            "--x:",
            "--x: @import",
        ] {
            assert!(parse_vars(bad).is_err(), "{bad} passed");
        }
    }

    #[test]
    fn contrast_is_wcags_ratio() {
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
        assert!((contrast("#ffffff", "#ffffff") - 1.0).abs() < 1e-9);
        // The product's own blue on white, and a pale grey that fails.
        assert!((contrast("#3a4fd8", "#ffffff") - 6.38).abs() < 0.01);
        assert!(contrast("#bbbbbb", "#ffffff") < 2.0);
        assert_eq!(
            contrast("#aa0000", "#fdf6e3"),
            contrast("#fdf6e3", "#aa0000")
        );
    }

    #[test]
    fn colours_are_six_hex_digits() {
        assert_eq!(parse_color(" #ABCDEF ").unwrap(), "#abcdef");
        for bad in ["abcdef", "#abc", "#abcdeg", "red", "#abcdef0"] {
            assert!(parse_color(bad).is_err(), "{bad} passed");
        }
    }
}
