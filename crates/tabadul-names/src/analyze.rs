//! From a written name to the tokens that are compared: titles and particles dropped, the
//! article removed, compounds (`abd` / `abu` with the following name, names ending in
//! -allah and -din) made into one token however they were written, each token converted into
//! the comparison space and looked up in the table of known names.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::convert;
use crate::script::{RawToken, TokenScript, tokens};

/// Most tokens of a name that are compared; the rest are ignored.
pub const TOKENS_PER_NAME_MAX: usize = 12;

/// How a compound token was formed; its `stem` is the part that tells names apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompoundKind {
    /// `abd` + a name (عبد الرحمن, Abdulrahman): the stem is the name after `abd`.
    Abd,
    /// `abu` + a name (a kunya: أبو بكر, Abubakar): the stem is the name after `abu`.
    Abu,
    /// A name + `allah` (عزت الله, Ezatullah): the stem is the name before.
    Allah,
    /// A name + `din` (سراج الدين, Serajuddin): the stem is the name before.
    Din,
}

/// One token of a name in the comparison space.
///
/// Laid out in order (`repr(C)`), what every comparison reads first and together: a check
/// compares a token with hundreds of others scattered over the heap, and each cache line of
/// a token read is a miss. The rarely present second readings are boxed (a pointer each);
/// the texts, read for explanations and equal hashes only, come last.
#[derive(Debug, Clone)]
#[repr(C)]
pub struct Token {
    /// What the edit distance reads of `full` and `cross` besides them, computed once.
    pub(crate) measures: (crate::phonetic::Measure, crate::phonetic::Measure),
    /// A hash of `key`, kept beside the token: comparing two tokens' keys reads their text only
    /// when the hashes are equal (the text lives elsewhere in memory).
    pub(crate) key_hash: u32,
    /// Its place in the vocabulary of the index that keeps it ([`Token::NO_SLOT`] until one
    /// does), so that the index finds what it keeps of the token without looking its key up.
    /// Not part of what the token is: equal tokens may have different slots.
    pub slot: u32,
    /// Phonetic symbols with vowels (Latin) or as Arabic script writes them (inline: every
    /// comparison reads them, and a read elsewhere in memory is a cache miss).
    pub full: Symbols,
    /// The cross-script form (see [`crate::convert::cross`]).
    pub cross: Symbols,
    /// For a compound, its kind and the phonetic symbols of its stem.
    pub compound: Option<Box<(CompoundKind, Spelling)>>,
    /// Another reading of the token: a Latin token that starts with `al` or `el`
    /// and a vowel is either a name (Alan, Elias) or the article joined to a name that starts
    /// with an ayn or a vowel (ALAZZAWI, ALOBAIDI, as the MRZ writes them). Both are compared.
    pub alternative: Option<Box<Spelling>>,
    /// The entry of the known-names table this spelling belongs to.
    pub known: Option<u16>,
    /// How much a match on this token counts (1.0 for a name not in the table).
    pub weight_milli: u16,
    /// A single letter: an initial.
    pub initial: bool,
    pub script: TokenScript,
    /// The folded letters with compound parts joined and articles removed: equal keys are the
    /// same spelling.
    pub key: String,
    /// The folded letters as written, compound parts separated by a space (for explanations).
    pub text: String,
}

impl PartialEq for Token {
    /// The same spelling, read alike: every field but the slot.
    fn eq(&self, other: &Token) -> bool {
        let Token {
            measures,
            key_hash,
            slot: _,
            full,
            cross,
            compound,
            alternative,
            known,
            weight_milli,
            initial,
            script,
            key,
            text,
        } = self;
        *measures == other.measures
            && *key_hash == other.key_hash
            && *full == other.full
            && *cross == other.cross
            && *compound == other.compound
            && *alternative == other.alternative
            && *known == other.known
            && *weight_milli == other.weight_milli
            && *initial == other.initial
            && *script == other.script
            && *key == other.key
            && *text == other.text
    }
}

impl Eq for Token {}

/// A second reading of a token (a compound's stem, a name without a joined article): its
/// phonetic symbols, and what the edit distance reads of them, computed once with the token
/// rather than at every comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spelling {
    pub full: Vec<u8>,
    pub cross: Vec<u8>,
    pub(crate) measures: (crate::phonetic::Measure, crate::phonetic::Measure),
}

impl Spelling {
    fn of(full: Vec<u8>, cross: Vec<u8>) -> Spelling {
        let measures = (crate::phonetic::Measure::of(&full), crate::phonetic::Measure::of(&cross));
        Spelling { full, cross, measures }
    }
}

/// A token's phonetic symbols, inline up to the length of nearly every name.
pub type Symbols = smallvec::SmallVec<[u8; 22]>;

/// The hash of a token's key (or of two keys joined) that [`Token::key_hash`] keeps.
pub(crate) fn key_hash(key: &str) -> u32 {
    key_hash_bytes(key.as_bytes())
}

/// [`key_hash`] of a key's bytes: both halves of the hash folded into 32 bits (equal hashes
/// only send the keys to be compared).
pub(crate) fn key_hash_bytes(key: &[u8]) -> u32 {
    use std::hash::Hasher;
    let mut hasher = crate::fx::FxHasher::default();
    hasher.write(key);
    let hash = hasher.finish();
    (hash >> 32) as u32 ^ hash as u32
}

impl Token {
    /// The slot of a token that no index keeps.
    pub const NO_SLOT: u32 = u32::MAX;

    pub fn weight(&self) -> f32 {
        f32::from(self.weight_milli) / 1000.0
    }

    /// A value read from each part of the token that every comparison reads (each of its
    /// cache lines up to its key's address and length, which a comparison reads to hold the
    /// key; no two reads a line apart), for a caller that brings many tokens into the cache at
    /// once before comparing them.
    pub fn touch(&self) -> u64 {
        let first = |symbols: &[u8]| u64::from(symbols.first().copied().unwrap_or(0));
        u64::from(self.measures.0.weight)
            .wrapping_add(u64::from(self.key_hash))
            .wrapping_add(first(&self.full))
            .wrapping_add(first(&self.cross))
            .wrapping_add(u64::from(self.script as u8))
            .wrapping_add(self.key.len() as u64)
            .wrapping_add(self.key.as_ptr() as u64)
    }
}

/// A name, analysed. Tokens are shared: an index keeps one copy of each distinct token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    pub tokens: Vec<Arc<Token>>,
    /// Titles and particles that were dropped (for explanations).
    pub dropped: Vec<String>,
}

const LATIN_TITLES: &[&str] = &[
    "dr",
    "doctor",
    "col",
    "colonel",
    "gen",
    "general",
    "lt",
    "maj",
    "major",
    "capt",
    "captain",
    "brig",
    "mullah",
    "mulla",
    "mullo",
    "maulavi",
    "maulvi",
    "mawlawi",
    "moulavi",
    "molvi",
    "maulana",
    "mawlana",
    "sheikh",
    "shaikh",
    "sheik",
    "shaykh",
    "cheikh",
    "haji",
    "hajji",
    "hajj",
    "alhaj",
    "alhajj",
    "qari",
    "mr",
    "mrs",
    "ms",
    "imam",
    "eng",
    "engineer",
    "prof",
    "professor",
    "fnu",
    "mnu",
    "lnu",
    "nfn",
    "nmn",
];
const ARABIC_TITLES: &[&str] = &[
    "الشيخ",
    "شيخ",
    "الحاج",
    "حاج",
    "حاجي",
    "ملا",
    "الملا",
    "مولوي",
    "مولانا",
    "الدكتور",
    "دكتور",
    "العقيد",
    "اللواء",
    "قاري",
    "الامام",
];
const LATIN_PARTICLES: &[&str] =
    &["bin", "ibn", "ben", "bint", "binti", "ould", "wuld", "walad", "bn", "son", "daughter", "of"];
const ARABIC_PARTICLES: &[&str] = &["بن", "ابن", "بنت", "ولد"];
const LATIN_ARTICLES: &[&str] = &[
    "al", "el", "ul", "ur", "ud", "ad", "ar", "as", "ash", "at", "az", "an", "ed", "er", "es", "et", "ez", "uz", "us",
    "ut",
];
const LATIN_ABD: &[&str] =
    &["abd", "abdul", "abdel", "abdal", "abdil", "abdol", "abdur", "abdus", "abdou", "abdoul", "abdu"];
const LATIN_ABU: &[&str] = &["abu", "abou", "abo"];
const LATIN_ALLAH: &[&str] = &["allah", "ullah", "ollah", "ulla", "alla", "illah", "ullo"];
const LATIN_DIN: &[&str] = &["din", "deen", "dine", "eddin", "eddine", "uddin", "uddine", "uddeen", "addin", "iddin"];
const LATIN_ALLAH_ENDINGS: &[&str] = &["ullah", "allah", "ollah", "illah"];
const LATIN_DIN_ENDINGS: &[&str] =
    &["uddin", "uddine", "uddeen", "eddine", "eddin", "addin", "iddin", "oddin", "aldin", "eldin", "uldin", "udin"];
/// Second elements of South Asian names written with the article joined to the first
/// (Ikramul Haq, Fazlul Karim): `-ul` is dropped before them.
const UL_SECOND: &[&str] = &[
    "haq", "haque", "hak", "islam", "amin", "huda", "mulk", "karim", "kareem", "rahman", "rehman", "rahim", "hassan",
    "hasan", "hussain", "hussein", "alam", "bari", "malik", "azim", "hakim", "majid", "qadir", "kabir", "wahab",
];

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
    if b.len() >= 5
        && (b.starts_with(b"al") || b.starts_with(b"el"))
        && !is_vowel_byte(b[2])
        && !matches!(b[2], b'l' | b'y')
    {
        return &text[2..];
    }
    text
}

/// The rest of a Latin token written `al` or `el` + a vowel (or y, w) + at least three letters.
fn joined_article_before_vowel(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let article = b.starts_with(b"al") || b.starts_with(b"el");
    (article && b.len() >= 6 && (is_vowel_byte(b[2]) || matches!(b[2], b'y' | b'w'))).then(|| &text[2..])
}

fn strip_arabic_article(text: &str) -> &str {
    match text.strip_prefix("ال") {
        Some(rest) if rest.chars().count() >= 2 => rest,
        _ => text,
    }
}

/// A token before conversion: its parts' keys (one part unless a compound).
struct Pending {
    text: String,
    parts: Vec<String>,
    script: TokenScript,
    compound: Option<CompoundKind>,
}

impl Pending {
    fn key(&self) -> String {
        self.parts.concat()
    }
}

/// Analyses a written name.
pub fn analyze(name: &str) -> Name {
    let (pending, dropped) = pending_tokens(name);
    let tokens = pending.into_iter().take(TOKENS_PER_NAME_MAX).map(|p| Arc::new(finish(p))).collect();
    Name { tokens, dropped }
}

/// Titles, particles and free-standing articles dropped; what remains, with its script.
fn significant_tokens(name: &str) -> (Vec<RawToken>, Vec<String>) {
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
    (parts, dropped)
}

/// The tokens of a name before conversion: compounds joined into one token.
fn pending_tokens(name: &str) -> (Vec<Pending>, Vec<String>) {
    let (parts, dropped) = significant_tokens(name);
    let mut pending: Vec<Pending> = Vec::with_capacity(parts.len());
    let mut i = 0;
    while i < parts.len() {
        let token = &parts[i];
        let next = parts.get(i + 1).filter(|n| n.script == token.script);
        let text = token.text.as_str();
        let compound = |kind: CompoundKind, head: &str, rest: &str, next: &RawToken| Pending {
            text: format!("{text} {}", next.text),
            parts: vec![head.to_string(), rest.to_string()],
            script: token.script,
            compound: Some(kind),
        };
        let (head_kind, suffix) = match token.script {
            TokenScript::Latin if LATIN_ABD.contains(&text) => (Some((CompoundKind::Abd, "abd")), None),
            TokenScript::Latin if LATIN_ABU.contains(&text) => (Some((CompoundKind::Abu, "abu")), None),
            TokenScript::Latin if LATIN_ALLAH.contains(&text) => (None, Some((CompoundKind::Allah, "lah"))),
            TokenScript::Latin if LATIN_DIN.contains(&text) => (None, Some((CompoundKind::Din, "din"))),
            TokenScript::Arabic if text == "عبد" => (Some((CompoundKind::Abd, "عبد")), None),
            TokenScript::Arabic if text == "ابو" => (Some((CompoundKind::Abu, "ابو")), None),
            TokenScript::Arabic if text == "الله" => (None, Some((CompoundKind::Allah, "له"))),
            TokenScript::Arabic if text == "الدين" => (None, Some((CompoundKind::Din, "دين"))),
            _ => (None, None),
        };
        if let (Some((kind, head)), Some(next)) = (head_kind, next) {
            let rest = match token.script {
                TokenScript::Arabic => strip_arabic_article(&next.text),
                _ => strip_latin_article(&next.text),
            };
            pending.push(compound(kind, head, rest, next));
            i += 2;
            continue;
        }
        if let (Some((kind, suffix)), Some(previous)) = (suffix, pending.last_mut())
            && previous.script == token.script
            && previous.compound.is_none()
        {
            previous.text = format!("{} {text}", previous.text);
            previous.parts.push(suffix.to_string());
            previous.compound = Some(kind);
            i += 1;
            continue;
        }
        let (parts, compound) = match token.script {
            TokenScript::Latin => {
                let next_text = next.map(|n| n.text.as_str());
                latin_parts(text, next_text)
            }
            TokenScript::Arabic => arabic_parts(text),
            TokenScript::Other => (vec![token.text.clone()], None),
        };
        pending.push(Pending { text: token.text.clone(), parts, script: token.script, compound });
        i += 1;
    }
    (pending, dropped)
}

/// The parts of a single Latin token: a compound written joined is split into its canonical
/// parts; the article written joined is removed.
fn latin_parts(text: &str, next: Option<&str>) -> (Vec<String>, Option<CompoundKind>) {
    if text.len() > 5 && text.starts_with("abd") {
        return (vec!["abd".into(), strip_joined_article(&text[3..]).into()], Some(CompoundKind::Abd));
    }
    if text.len() > 5 && text.starts_with("abu") || text.len() > 6 && text.starts_with("abou") {
        let rest = text.strip_prefix("abou").or_else(|| text.strip_prefix("abu")).unwrap_or(text);
        return (vec!["abu".into(), strip_latin_article(rest).into()], Some(CompoundKind::Abu));
    }
    for ending in LATIN_ALLAH_ENDINGS {
        if let Some(stem) = text.strip_suffix(ending)
            && stem.len() >= 3
        {
            return (vec![strip_latin_article(stem).into(), "lah".into()], Some(CompoundKind::Allah));
        }
    }
    for ending in LATIN_DIN_ENDINGS {
        if let Some(stem) = text.strip_suffix(ending)
            && stem.len() >= 3
        {
            return (vec![strip_latin_article(stem).into(), "din".into()], Some(CompoundKind::Din));
        }
    }
    // The article written joined to the end of the first name: Matiur Rahman, Ikramul Haq.
    if let Some(next) = next {
        let b = text.as_bytes();
        let n = b.len();
        let sun =
            n >= 5 && b[n - 2] == b'u' && next.as_bytes().first() == Some(&b[n - 1]) && b"rsztdn".contains(&b[n - 1]);
        let ul = n >= 5 && text.ends_with("ul") && UL_SECOND.contains(&next);
        if sun || ul {
            return (vec![text[..n - 2].to_string()], None);
        }
    }
    (vec![strip_latin_article(text).to_string()], None)
}

fn arabic_parts(text: &str) -> (Vec<String>, Option<CompoundKind>) {
    for (head, kind) in [("عبد", CompoundKind::Abd), ("ابو", CompoundKind::Abu)] {
        if let Some(rest) = text.strip_prefix(head)
            && rest.chars().count() >= 2
        {
            return (vec![head.to_string(), strip_arabic_article(rest).to_string()], Some(kind));
        }
    }
    (vec![strip_arabic_article(text).to_string()], None)
}

fn convert_part(script: TokenScript, part: &str) -> Vec<u8> {
    match script {
        TokenScript::Arabic => convert::arabic(part),
        TokenScript::Latin => convert::latin(part),
        TokenScript::Other => part.bytes().collect(),
    }
}

fn finish(pending: Pending) -> Token {
    let converted: Vec<Vec<u8>> = pending.parts.iter().map(|p| convert_part(pending.script, p)).collect();
    let mut full: Vec<u8> = converted.concat();
    full.dedup();
    let cross = convert::cross(&full);
    let compound = pending.compound.map(|kind| {
        let stem = match kind {
            CompoundKind::Abd | CompoundKind::Abu => converted.last(),
            CompoundKind::Allah | CompoundKind::Din => converted.first(),
        };
        let stem = stem.cloned().unwrap_or_default();
        let stem_cross = convert::cross(&stem);
        Box::new((kind, Spelling::of(stem, stem_cross)))
    });
    let key = pending.key();
    let alternative = (pending.script == TokenScript::Latin && pending.compound.is_none())
        .then(|| joined_article_before_vowel(&key))
        .flatten()
        .map(|rest| {
            let full = convert::latin(rest);
            let cross = convert::cross(&full);
            Box::new(Spelling::of(full, cross))
        });
    let table = known_table();
    let known = table.keys.get(&key).copied();
    let initial = pending.script == TokenScript::Latin && key.len() == 1;
    let weight_milli = match known {
        Some(entry) => table.weights[entry as usize],
        None if initial => 300,
        None if cross.len() <= 1 => 500,
        None => 1000,
    };
    let measures = (crate::phonetic::Measure::of(&full), crate::phonetic::Measure::of(&cross));
    Token {
        measures,
        key_hash: key_hash(&key),
        text: pending.text,
        key,
        script: pending.script,
        full: Symbols::from_slice(&full),
        cross: Symbols::from_slice(&cross),
        compound,
        alternative,
        known,
        weight_milli,
        initial,
        slot: Token::NO_SLOT,
    }
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
                    keys.entry(single.key()).or_insert(entry as u16);
                }
            }
        }
        KnownTable { keys, weights }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// What a comparison reads of a token lies in its first 184 bytes (three cache lines,
    /// four when the token starts mid-line), up to its key's address and length; the text
    /// after it. A field added in between, or a second reading unboxed, would spread every
    /// comparison over more lines.
    #[test]
    fn what_comparisons_read_comes_first() {
        assert!(offset_of!(Token, script) < offset_of!(Token, key), "{}", offset_of!(Token, script));
        assert!(offset_of!(Token, key) + size_of::<String>() <= 184, "{}", offset_of!(Token, key));
        assert!(size_of::<Token>() <= 208, "{}", size_of::<Token>());
    }

    /// [`Token::touch`] reads the token at most a cache line apart from its start to its key
    /// (whose address and length it reads, wherever they lie in the key's three words).
    #[test]
    fn touch_reads_every_line_that_comparisons_read() {
        let reads = [
            offset_of!(Token, measures),
            offset_of!(Token, key_hash),
            offset_of!(Token, full),
            offset_of!(Token, cross),
            offset_of!(Token, script),
            offset_of!(Token, key),
        ];
        assert!(reads.windows(2).all(|w| w[0] < w[1] && w[1] - w[0] <= 64), "{reads:?}");
    }
}
