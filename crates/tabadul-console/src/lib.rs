//! The web console: a few static files (HTML, CSS, JavaScript modules) compiled into the
//! binary and served by `tabadul serve` under `/console/`. No build step, no package from
//! the network at build or run time; the page is a client of the public API only.
//!
//! The console keeps its session token in the tab's `sessionStorage` and sends it as a bearer
//! token, never as a cookie, so a page of another site cannot act with it (no CSRF). The
//! server sends [`SECURITY_HEADERS`] with every file: scripts and styles from this origin
//! only, no framing, no referrer.

/// One file of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The name under `/console/`.
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

/// Every file, the page first.
pub const ASSETS: &[Asset] = &[
    Asset { name: "index.html", content_type: "text/html; charset=utf-8", body: include_str!("../assets/index.html") },
    Asset { name: "app.js", content_type: "text/javascript; charset=utf-8", body: include_str!("../assets/app.js") },
    Asset { name: "i18n.js", content_type: "text/javascript; charset=utf-8", body: include_str!("../assets/i18n.js") },
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", body: include_str!("../assets/app.css") },
];

/// The headers every console file is served with.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-cache"),
];

/// The file called `name` (`""` is the page).
pub fn asset(name: &str) -> Option<&'static Asset> {
    let name = if name.is_empty() { "index.html" } else { name };
    ASSETS.iter().find(|asset| asset.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_files_are_found_and_nothing_else() {
        assert_eq!(asset("").unwrap().name, "index.html");
        assert!(asset("app.js").unwrap().content_type.starts_with("text/javascript"));
        assert!(asset("../Cargo.toml").is_none() && asset("app.js.map").is_none());
        for file in ASSETS {
            assert!(!file.body.is_empty(), "{}", file.name);
        }
        // The page loads only files of this list, from this origin.
        let page = asset("").unwrap().body;
        for reference in ["app.css", "app.js"] {
            assert!(page.contains(&format!("\"{reference}\"")), "{reference}");
        }
        assert!(!page.contains("http://") && !page.contains("https://"), "no file from another site");
    }

    /// Every message key the console has in English it has in Arabic, and the other way.
    #[test]
    fn every_word_is_in_both_languages() {
        let text = asset("i18n.js").unwrap().body;
        let block = |start: &str, end: &str| -> Vec<String> {
            let from = text.find(start).unwrap_or_else(|| panic!("{start}")) + start.len();
            let to = from + text[from..].find(end).unwrap_or_else(|| panic!("{end}"));
            let mut keys: Vec<String> = text[from..to]
                .lines()
                .filter_map(|line| line.trim().strip_prefix('"')?.split_once("\":").map(|(k, _)| k.to_string()))
                .collect();
            keys.sort();
            keys
        };
        let messages_en = block("  en: {", "\n  },");
        let messages_ar = block("  ar: {", "\n  },");
        assert!(messages_en.len() > 150, "{}", messages_en.len());
        assert_eq!(messages_en, messages_ar);
        let values = &text[text.find("export const VALUES").unwrap()..];
        let en = values.find("  en: {").unwrap();
        let ar = values.find("  ar: {").unwrap();
        let keys = |from: usize, to: usize| -> Vec<&str> {
            let mut keys: Vec<&str> = values[from..to]
                .lines()
                .filter_map(|l| l.trim().strip_prefix('"')?.split_once("\":").map(|(k, _)| k))
                .collect();
            keys.sort();
            keys
        };
        let end = ar + values[ar..].find("\n};").unwrap();
        assert_eq!(keys(en, ar), keys(ar, end));
    }

    /// The console's code never writes data into the page as HTML.
    #[test]
    fn data_goes_into_the_page_as_text_only() {
        for file in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            for risky in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
                assert!(!file.body.contains(risky), "{} uses {risky}", file.name);
            }
        }
    }
}
