//! Charts drawn on the server as SVG, so the dashboard needs no script: stacked bars, one per
//! day, a colour per series, with a legend, the largest total and the first and last day.

use std::fmt::Write as _;

use time::Date;

use super::dashboard::Series;
use crate::domain::html::escape;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 20.0;
const COLOURS: [&str; 8] = [
    "#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#4b5563",
];

/// A stacked bar chart of `series` over `days`, titled `title`.
pub fn stacked_bars(title: &str, days: &[Date], series: &[Series]) -> String {
    let totals: Vec<i64> = (0..days.len())
        .map(|i| {
            series
                .iter()
                .map(|s| s.counts.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
    let all: i64 = totals.iter().sum();
    let plot = HEIGHT - TOP - BOTTOM;
    let slot = WIDTH / days.len().max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" class="chart"><title>{label}</title>"#,
        label = escape(&format!("{title}: {all} in {} days", days.len())),
    );
    for (i, day) in days.iter().enumerate() {
        let mut y = HEIGHT - BOTTOM;
        for (n, s) in series.iter().enumerate() {
            let count = s.counts.get(i).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let h = count as f64 / max * plot;
            y -= h;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="{c}"><title>{t}</title></rect>"#,
                x = i as f64 * slot + (slot - bar) / 2.0,
                c = COLOURS[n % COLOURS.len()],
                t = escape(&format!("{day}: {} {count}", s.name)),
            );
        }
    }
    let _ = write!(
        svg,
        r##"<text x="0" y="12" font-size="11" fill="#4b5563">max {max}</text>"##,
        max = max as i64
    );
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let _ = write!(
            svg,
            r##"<text x="0" y="{y}" font-size="11" fill="#4b5563">{first}</text><text x="{WIDTH}" y="{y}" font-size="11" fill="#4b5563" text-anchor="end">{last}</text>"##,
            y = HEIGHT - 4.0
        );
    }
    let mut x = 80.0;
    for (n, s) in series.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="4" width="10" height="10" fill="{c}"/><text x="{tx}" y="13" font-size="11">{name}</text>"#,
            c = COLOURS[n % COLOURS.len()],
            tx = x + 14.0,
            name = escape(&s.name),
        );
        x += 24.0 + s.name.len() as f64 * 6.5;
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_per_day_and_names_are_escaped() {
        let days = [
            Date::from_calendar_date(2026, time::Month::December, 1).unwrap(),
            Date::from_calendar_date(2026, time::Month::December, 2).unwrap(),
        ];
        let series = [
            Series {
                name: "password".into(),
                counts: vec![3, 0],
            },
            Series {
                name: "<script>".into(),
                counts: vec![1, 4],
            },
        ];
        let svg = stacked_bars("Sign-ins", &days, &series);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("Sign-ins: 8 in 2 days"));
        assert_eq!(
            svg.matches("<rect").count(),
            3 + 2,
            "three bars and two legend keys"
        );
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
    }
}
