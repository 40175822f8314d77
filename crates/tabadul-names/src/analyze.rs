//! From a written name to the tokens that are compared: titles and particles dropped, the
//! article removed, compounds (`abd` / `abu` with the following name, names ending in
//! -allah and -din) made into one token however they were written, each token converted into
//! the comparison space and looked up in the table of known names.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::convert;
use crate::script::{RawToken, TokenScript, tokens};

/// Most tokens of a name that are compared; the rest are ignored.
pub const TOKENS_PER_NAME_MAX: usize = 12;

/// One token of a name in the comparison space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The folded letters as written, compound parts separated by a space (for explanations).
    pub text: String,
    /// The folded letters with compound parts joined and articles removed: equal keys are the
    /// same spelling.
    pub key: String,
    pub script: TokenScript,
    /// Phonetic symbols with vowels (Latin) or as Arabic script writes them.
    pub full: Vec<u8>,
    /// The cross-script form (see [`crate::convert::cross`]).
    pub cross: Vec<u8>,
    /// The entry of the known-names table this spelling belongs to.
    pub known: Option<u16>,
    /// How much a match on this token counts (1.0 for a name not in the table).
    pub weight_milli: u16,
    /// A single letter: an initial.
    pub initial: bool,
}

impl Token {
    pub fn weight(&self) -> f32 {
        f32::from(self.weight_milli) / 1000.0
    }
}

/// A name, analysed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    pub tokens: Vec<Token>,
    /// Titles and particles that were dropped (for explanations).
    pub dropped: Vec<String>,
}

const LATIN_TITLES: &[&str] = &[
    "dr", "doctor", "col", "colonel", "gen", "general", "lt", "maj", "major", "capt", "captain", "brig", "mullah",
    "mulla", "mullo", "maulavi", "maulvi", "mawlawi", "moulavi", "molvi", "maulana", "mawlana", "sheikh", "shaikh",
    "sheik", "shaykh", "cheikh", "haji", "hajji", "hajj", "alhaj", "alhajj", "qari", "mr", "mrs", "ms", "imam", "eng",
    "engineer", "prof", "professor", "emir", "amir al", "hafiz al",
];
const ARABIC_TITLES: &[&str] =
    &["الشيخ", "شيخ", "الحاج", "حاج", "حاجي", "ملا", "الملا", "مولوي", "مولانا", "الدكتور", "دكتور", "العقيد", "اللواء", "قاري", "الامام"];
const LATIN_PARTICLES: &[&str] = &["bin", "ibn", "ben", "bint", "binti", "ould", "wuld", "walad", "bn"];
const ARABIC_PARTICLES: &[&str] = &["بن", "ابن", "بنت", "ولد"];
const LATIN_ARTICLES: &[&str] =
    &["al", "el", "ul", "ur", "ud", "ad", "ar", "as", "ash", "at", "az", "an", "ed", "er", "es", "et", "ez", "uz", "us", "ut"];
const LATIN_ABD: &[&str] =
    &["abd", "abdul", "abdel", "abdal", "abdil", "abdol", "abdul", "abdur", "abdus", "abdou", "abdoul", "abdu"];
const LATIN_ABU: &[&str] = &["abu", "abou", "abo"];
const LATIN_ALLAH: &[&str] = &["allah", "ullah", "ollah", "ulla", "alla", "illah", "ullo"];
const LATIN_DIN: &[&str] = &["din", "deen", "dine", "eddin", "eddine", "uddin", "uddine", "uddeen", "addin", "iddin"];
const LATIN_ALLAH_ENDINGS: &[&str] = &["ullah", "allah", "ollah", "illah"];
const LATIN_DIN_ENDINGS: &[&str] =
    &["uddin", "uddine", "uddeen", "eddine", "eddin", "addin", "iddin", "oddin", "aldin", "eldin", "uldin", "ud-din"];

fn is_vowel_byte(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Removes the article from a Latin remainder written joined after `abd`: `ulrahman` ->
/// `rahman`, `urrahman` -> `rahman` (the sun letters assimilate the l), `allah` -> `lah`.
fn strip_joined_article(rest: &str) -> &str {
    let b = rest.as_bytes();
    if b.len() >= 4 && is_vowel_byte(b[0]) && b[1] == b'l' {
        return &rest[2..];
    }
    if b.len() >= 4 && is_vowel_byte(b[0]) && b[1] == b[2] && !is_vowel_byte(b[1]) {
        return &rest[2..];
    }
    rest
}

/// Removes a leading Latin article from a token written joined (`alshammari`).
fn strip_latin_article(text: &str) -> &str {
    let b = text.as_bytes();
    if b.len() >= 5 && (b.starts_with(b"al") || b.starts_with(b"el")) && !is_vowel_byte(b[2]) && b[2] != b'l' && b[2] != b'y' {
        return &text[2..];
    }
    text
}

fn strip_arabic_article(text: &str) -> &str {
    match text.strip_prefix("ال") {
        Some(rest) if rest.chars().count() >= 2 => rest,
        _ => text,
    }
}

struct Pending {
    text: String,
    key: String,
    script: TokenScript,
    compound: bool,
}

/// Analyses a written name.
pub fn analyze(name: &str) -> Name {
    let (pending, dropped) = pending_tokens(name);
    let tokens = pending.into_iter().take(TOKENS_PER_NAME_MAX).map(finish).collect();
    Name { tokens, dropped }
}

/// The tokens of a name before conversion: titles and particles dropped, compounds joined.
fn pending_tokens(name: &str) -> (Vec<Pending>, Vec<String>) {
    let raw = tokens(name);
    let mut dropped = Vec::new();
    let mut parts: Vec<RawToken> = Vec::with_capacity(raw.len());
    for (i, token) in raw.iter().enumerate() {
        let last = i + 1 == raw.len();
        let text = token.text.as_str();
        let (titles, particles) = match token.script {
            TokenScript::Arabic => (ARABIC_TITLES, ARABIC_PARTICLES),
            _ => (LATIN_TITLES, LATIN_PARTICLES),
        };
        let article = token.script == TokenScript::Latin && LATIN_ARTICLES.contains(&text)
            || token.script == TokenScript::Arabic && text == "ال";
        if titles.contains(&text) && raw.len() > 1 || (particles.contains(&text) || article) && !last {
            if !article {
                dropped.push(token.text.clone());
            }
            continue;
        }
        parts.push(token.clone());
    }
    let mut pending: Vec<Pending> = Vec::with_capacity(parts.len());
    let mut i = 0;
    while i < parts.len() {
        let token = &parts[i];
        let next = parts.get(i + 1).filter(|n| n.script == token.script);
        let text = token.text.as_str();
        let single = |text: String, key: String| Pending { text, key, script: token.script, compound: false };
        match token.script {
            TokenScript::Latin => {
                if let Some(next) = next.filter(|_| LATIN_ABD.contains(&text)) {
                    let key = format!("abd{}", strip_latin_article(&next.text));
                    pending.push(Pending { text: format!("{text} {}", next.text), key, script: token.script, compound: true });
                    i += 2;
                    continue;
                }
                if let Some(next) = next.filter(|_| LATIN_ABU.contains(&text)) {
                    let key = format!("abu{}", strip_latin_article(&next.text));
                    pending.push(Pending { text: format!("{text} {}", next.text), key, script: token.script, compound: true });
                    i += 2;
                    continue;
                }
                let suffix = if LATIN_ALLAH.contains(&text) {
                    Some("lah")
                } else if LATIN_DIN.contains(&text) {
                    Some("din")
                } else {
                    None
                };
                if let (Some(suffix), Some(previous)) = (suffix, pending.last_mut())
                    && previous.script == TokenScript::Latin
                    && !previous.compound
                {
                    previous.text = format!("{} {text}", previous.text);
                    previous.key.push_str(suffix);
                    previous.compound = true;
                    i += 1;
                    continue;
                }
                pending.push(single(token.text.clone(), latin_key(text)));
            }
            TokenScript::Arabic => {
                if let Some(next) = next.filter(|_| text == "عبد" || text == "ابو") {
                    let key = format!("{text}{}", strip_arabic_article(&next.text));
                    pending.push(Pending { text: format!("{text} {}", next.text), key, script: token.script, compound: true });
                    i += 2;
                    continue;
                }
                let suffix = match text {
                    "الله" => Some("له"),
                    "الدين" => Some("دين"),
                    _ => None,
                };
                if let (Some(suffix), Some(previous)) = (suffix, pending.last_mut())
                    && previous.script == TokenScript::Arabic
                    && !previous.compound
                {
                    previous.text = format!("{} {text}", previous.text);
                    previous.key.push_str(suffix);
                    previous.compound = true;
                    i += 1;
                    continue;
                }
                pending.push(single(token.text.clone(), arabic_key(text)));
            }
            TokenScript::Other => pending.push(single(token.text.clone(), token.text.clone())),
        }
        i += 1;
    }
    (pending, dropped)
}

/// The key of a single Latin token: joined compounds split into their canonical form.
fn latin_key(text: &str) -> String {
    if text.len() > 5 && text.starts_with("abd") {
        return format!("abd{}", strip_joined_article(&text[3..]));
    }
    if text.len() > 5 && (text.starts_with("abu") || text.starts_with("abou")) {
        let rest = text.strip_prefix("abou").or_else(|| text.strip_prefix("abu")).unwrap_or(text);
        if rest.len() >= 3 {
            return format!("abu{}", strip_latin_article(rest));
        }
    }
    for ending in LATIN_ALLAH_ENDINGS {
        if let Some(stem) = text.strip_suffix(ending)
            && stem.len() >= 3
        {
            return format!("{}lah", strip_latin_article(stem));
        }
    }
    for ending in LATIN_DIN_ENDINGS {
        if let Some(stem) = text.strip_suffix(ending)
            && stem.len() >= 3
        {
            return format!("{}din", strip_latin_article(stem));
        }
    }
    strip_latin_article(text).to_string()
}

fn arabic_key(text: &str) -> String {
    if text.chars().count() > 3 && (text.starts_with("عبد") || text.starts_with("ابو")) {
        let (head, rest) = text.split_at("عبد".len());
        return format!("{head}{}", strip_arabic_article(rest));
    }
    strip_arabic_article(text).to_string()
}

fn finish(pending: Pending) -> Token {
    let full = match pending.script {
        TokenScript::Arabic => convert::arabic(&pending.key),
        TokenScript::Latin => convert::latin(&pending.key),
        TokenScript::Other => pending.key.bytes().collect(),
    };
    let cross = convert::cross(&full);
    let table = known_table();
    let known = table.keys.get(&pending.key).copied();
    let initial = pending.script == TokenScript::Latin && pending.key.len() == 1;
    let weight_milli = match known {
        Some(entry) => table.weights[entry as usize],
        None if initial => 300,
        None if cross.len() <= 1 => 500,
        None => 1000,
    };
    Token { text: pending.text, key: pending.key, script: pending.script, full, cross, known, weight_milli, initial }
}

/// The known-names table: each spelling's key -> its entry, and each entry's weight.
struct KnownTable {
    keys: HashMap<String, u16>,
    weights: Vec<u16>,
}

fn known_table() -> &'static KnownTable {
    static TABLE: OnceLock<KnownTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut keys = HashMap::new();
        let mut weights = Vec::new();
        for (entry, line) in crate::known::TABLE.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let (weight, spellings) = line.split_once('|').expect("each line of the table is weight|spellings");
            let weight: f32 = weight.parse().expect("each line of the table starts with a weight");
            weights.push((weight * 1000.0) as u16);
            for spelling in spellings.split(',') {
                let (pending, _) = pending_tokens(spelling);
                if let [single] = pending.as_slice() {
                    keys.entry(single.key.clone()).or_insert(entry as u16);
                }
            }
        }
        KnownTable { keys, weights }
    })
}
