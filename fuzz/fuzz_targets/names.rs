//! Name normalisation and comparison: never panic; folding is idempotent; a name compared with
//! itself aligns every token.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let once: Vec<String> = tabadul_names::script::tokens(text).into_iter().map(|t| t.text).collect();
    let again: Vec<String> = tabadul_names::script::tokens(&once.join(" ")).into_iter().map(|t| t.text).collect();
    assert_eq!(once, again);
    let name = tabadul_names::analyze(text);
    let (_, alignment) = tabadul_names::compare(&name, &name);
    assert!(alignment.unmatched_query.is_empty() || name.tokens.iter().any(|t| t.full.is_empty()));
});
