//! Generates the `i18n` module from `locales/<language>/<part>.json`: English is the default
//! and the reference (every part's file names in `locales/en` are the namespaces), German the
//! second language. A key missing from a language, or an unknown key in a view, fails the build.
use std::{env, fs, path::PathBuf};

use leptos_i18n_parser::parse_locales::{
    options::{Config, ParseOptions},
    parse_locales,
};

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets the manifest dir"));
    let mut parts: Vec<String> = fs::read_dir(manifest.join("locales/en"))
        .expect("locales/en exists")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    parts.sort();
    println!("cargo::rerun-if-changed=locales");
    let config = Config::new("en")
        .and_then(|c| c.add_locale("de"))
        .and_then(|c| c.add_namespaces(&parts))
        .unwrap_or_else(|e| panic!("translation config: {e}"))
        .parse_options(ParseOptions::new().interpolate_display(true));
    let parsed =
        parse_locales(Some(manifest), config).unwrap_or_else(|e| panic!("translations: {e}"));
    for file in parsed.tracked_files.iter().flatten() {
        println!("cargo::rerun-if-changed={file}");
    }
    for warning in parsed.diag.warnings().iter() {
        println!("cargo::warning={warning}");
    }
    let errors: Vec<String> = parsed
        .diag
        .errors()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "translations: {}", errors.join("; "));
    let code = leptos_i18n_codegen::gen_code(&parsed, None, false, None, false)
        .unwrap_or_else(|e| panic!("translations: {e}"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("i18n");
    fs::create_dir_all(&out).expect("OUT_DIR is writable");
    fs::write(out.join("mod.rs"), code.to_string()).expect("OUT_DIR is writable");
}
