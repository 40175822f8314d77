//! A person compared with a person: the features, the score and the reasons.

use std::borrow::Cow;

use serde::Serialize;
use tabadul_domain::{CountryCode, Gender, PartialDate};
use tabadul_names::{
    Alignment, Name, NameFeatures, SimilarityCache, analyze, compare_cached, compare_features, first_two_swapped,
};

use crate::model;

/// Who is looked for (a traveller) or what an alert records: names in any script and what
/// else is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonQuery {
    pub names: Vec<String>,
    pub birth_dates: Vec<PartialDate>,
    pub nationalities: Vec<CountryCode>,
    pub gender: Option<Gender>,
    pub documents: Vec<String>,
}

/// A person with its names analysed, ready to compare many times.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreparedPerson {
    pub names: Vec<Name>,
    pub birth_dates: Vec<PartialDate>,
    pub nationalities: Vec<CountryCode>,
    pub gender: Option<Gender>,
    /// Document numbers in upper case, letters and digits only.
    pub documents: Vec<String>,
}

impl PersonQuery {
    /// What a person alert records, as the engine compares it.
    pub fn from_person(person: &tabadul_domain::Person) -> PersonQuery {
        PersonQuery {
            names: person.names.iter().map(|n| n.full.clone()).collect(),
            birth_dates: person.birth_dates.clone(),
            nationalities: person.nationalities.clone(),
            gender: person.gender,
            documents: person.documents.iter().map(|d| d.number.clone()).collect(),
        }
    }

    pub fn prepare(&self) -> PreparedPerson {
        let names: Vec<Name> = self
            .names
            .iter()
            .flat_map(|n| split_aliases(n))
            .map(|n| analyze(&reading_order(n)))
            .filter(|name| !name.tokens.is_empty())
            .collect();
        PreparedPerson {
            names,
            birth_dates: self.birth_dates.clone(),
            nationalities: self.nationalities.clone(),
            gender: self.gender,
            documents: self.documents.iter().map(|d| normalise_document(d)).filter(|d| !d.is_empty()).collect(),
        }
    }
}

/// Lists of names written as one (`X; Y`, `X dit Y`, `X alias Y`, `X aka Y`) split into their
/// names.
fn split_aliases(written: &str) -> Vec<&str> {
    let mut names = Vec::new();
    for part in written.split(';') {
        let mut rest = part;
        loop {
            let lower = rest.to_lowercase();
            let found = [" dit ", " alias ", " aka ", " a.k.a. "]
                .iter()
                .filter_map(|word| lower.find(word).map(|at| (at, word.len())))
                .min();
            // Byte offsets of the lower-cased text match the original only for ASCII words
            // before them; fall back to the whole part otherwise.
            match found {
                Some((at, len))
                    if rest.is_char_boundary(at) && rest.is_char_boundary(at + len) && lower.len() == rest.len() =>
                {
                    names.push(&rest[..at]);
                    rest = &rest[at + len..];
                }
                _ => {
                    names.push(rest);
                    break;
                }
            }
        }
    }
    names.into_iter().map(str::trim).filter(|n| !n.is_empty()).collect()
}

/// A name written `FAMILY, Given` (as lists write them) in reading order: `Given FAMILY`.
fn reading_order(name: &str) -> Cow<'_, str> {
    match name.split_once(',') {
        Some((family, given)) if !given.contains(',') && !given.trim().is_empty() && !family.trim().is_empty() => {
            Cow::Owned(format!("{} {}", given.trim(), family.trim()))
        }
        _ => Cow::Borrowed(name),
    }
}

/// A document number as compared: upper-case letters and digits, the MRZ's O/0 confusion
/// left to the MRZ reader.
pub fn normalise_document(number: &str) -> String {
    number.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

/// What the birth dates say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    Unknown,
    Match,
    Partial,
    Close,
    Conflict,
}

/// One reason behind a score, for an officer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// `name`, `birth-date`, `nationality`, `gender` or `document`.
    pub feature: &'static str,
    /// Whether it speaks for (`true`) or against the match.
    pub supports: bool,
    pub text: String,
    /// The same in Arabic, for the officers who work in it.
    pub text_ar: String,
}

/// The outcome of comparing two persons.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchResult {
    pub score: f32,
    /// The score of the names alone.
    pub name_score: f32,
    /// Which of the query's and the candidate's names matched best.
    pub names: (usize, usize),
    pub reasons: Vec<Reason>,
    #[serde(skip)]
    pub features: [f32; model::FEATURES],
    /// The log-odds the score is made from.
    #[serde(skip)]
    pub logit: f32,
    /// Whether the best pair of names agree on part of their tokens only.
    #[serde(skip)]
    pub partial: bool,
    /// Which tokens of the candidate's best name are matched (bit `i` for token `i`).
    #[serde(skip)]
    pub candidate_matched_tokens: u16,
    /// How many alerts of the population searched share the names matched (0: not counted);
    /// see [`MatchResult::share_with_namesakes`].
    pub namesakes: u32,
}

impl MatchResult {
    /// Shares the odds among `namesakes` alerts that carry the names matched (see
    /// [`model::namesakes_logit`]), when the names agree in part only.
    pub fn share_with_namesakes(&mut self, namesakes: u32) {
        if !self.partial {
            return;
        }
        self.namesakes = namesakes;
        self.score = model::sigmoid(self.logit + model::namesakes_logit(namesakes));
    }
}

/// Compares a query with a candidate, with the reasons.
pub fn score(query: &PreparedPerson, candidate: &PreparedPerson) -> MatchResult {
    let mut cache = SimilarityCache::new();
    let mut result = score_cached(query, candidate, &mut cache);
    explain(query, candidate, &mut result, &mut cache);
    result
}

/// [`score`] without the reasons (writing them costs more than the comparison; [`explain`]
/// adds them), remembering token similarities in `cache` (keep one per search).
pub fn score_cached(query: &PreparedPerson, candidate: &PreparedPerson, cache: &mut SimilarityCache) -> MatchResult {
    let mut best: Option<(f32, usize, usize, NameFeatures)> = None;
    for (qi, q) in query.names.iter().enumerate() {
        for (ci, c) in candidate.names.iter().enumerate() {
            let features = compare_features(q, c, cache);
            let conflict = features.both_first_unmatched > 0.0 && q.tokens.len() >= 2 && c.tokens.len() >= 2;
            let logit = model::name_logit(&features, conflict);
            if best.as_ref().is_none_or(|b| logit > b.0) {
                best = Some((logit, qi, ci, features));
            }
        }
    }
    let (name_logit, qi, ci, name_features) =
        best.unwrap_or((model::name_logit(&NameFeatures::default(), false), 0, 0, NameFeatures::default()));
    let other = other_features(query, candidate);
    let mut features = [0.0; model::FEATURES];
    features[..NameFeatures::COUNT].copy_from_slice(&name_features.to_array());
    features[NameFeatures::COUNT..].copy_from_slice(&other.to_array());
    let logit = name_logit + model::other_logit(&other);
    MatchResult {
        score: model::sigmoid(logit),
        name_score: model::sigmoid(name_logit),
        names: (qi, ci),
        reasons: Vec::new(),
        features,
        logit,
        partial: name_features.partial,
        candidate_matched_tokens: name_features.candidate_matched_tokens,
        namesakes: 0,
    }
}

/// The reasons for a result that [`score_cached`] gave without them: only the pair of names
/// that matched best is compared again.
pub fn explain(
    query: &PreparedPerson,
    candidate: &PreparedPerson,
    result: &mut MatchResult,
    cache: &mut SimilarityCache,
) {
    // Room for a hit's usual reasons (three or four names, a date, a nationality, a namesake).
    let mut reasons = Vec::with_capacity(8);
    let (qi, ci) = result.names;
    if let (Some(q), Some(c)) = (query.names.get(qi), candidate.names.get(ci)) {
        let (_, alignment) = compare_cached(q, c, cache);
        name_reasons(q, c, &alignment, &mut reasons);
        if first_two_swapped(&alignment.pairs) {
            reasons.push(Reason {
                feature: "name",
                supports: false,
                text: "given and father's names the other way round: a father and his son?".into(),
                text_ar: "الاسم الأول واسم الأب بترتيب معكوس: أب وابنه؟".into(),
            });
        }
        if result.namesakes > 1 {
            namesakes_reason(q, &alignment, result.namesakes, &mut reasons);
        }
    }
    other_features(query, candidate).reasons(query, candidate, &mut reasons);
    result.reasons = reasons;
}

/// The role of a name's token `index` of `count`, in English and in Arabic.
fn role(index: usize, count: usize) -> (&'static str, &'static str) {
    if index == 0 {
        ("given name", "الاسم الأول")
    } else if index + 1 == count {
        ("family name", "اسم العائلة")
    } else {
        ("name", "الاسم")
    }
}

fn kind_ar(kind: tabadul_names::MatchKind) -> &'static str {
    use tabadul_names::MatchKind;
    match kind {
        MatchKind::Exact => "التهجئة نفسها",
        MatchKind::KnownVariant => "صيغة معروفة للاسم",
        MatchKind::Transliteration => "نقل حرفي",
        MatchKind::Spelling => "تهجئة أخرى",
        MatchKind::Initial => "الحرف الأول",
    }
}

/// The tokens of a span as written, upper-cased for the alert's side: the token's own text
/// when the span is one token that upper-casing leaves as it is (Arabic script, a name
/// already in capitals), a copy otherwise (a check explains some 20 spans a hit).
fn span_text(name: &Name, (start, len): (usize, usize), upper: bool) -> Cow<'_, str> {
    if let [token] = &name.tokens[start..start + len] {
        let unchanged = |c: char| {
            if c.is_ascii() { !c.is_ascii_lowercase() } else { c.to_uppercase().eq(std::iter::once(c)) }
        };
        if !upper || token.text.chars().all(unchanged) {
            return Cow::Borrowed(&token.text);
        }
    }
    let mut text = String::with_capacity(name.tokens[start..start + len].iter().map(|t| t.text.len() + 1).sum());
    for (i, token) in name.tokens[start..start + len].iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        if upper {
            text.extend(token.text.chars().flat_map(char::to_uppercase));
        } else {
            text.push_str(&token.text);
        }
    }
    Cow::Owned(text)
}

/// `parts` written one after the other: what every reason is made of, without the formatting
/// machinery (a check explains each of its hits in two languages).
fn concat(parts: &[&str]) -> String {
    let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    parts.iter().for_each(|part| text.push_str(part));
    text
}

fn name_reasons(query: &Name, candidate: &Name, alignment: &Alignment, reasons: &mut Vec<Reason>) {
    for pair in &alignment.pairs {
        let (q, c) = (span_text(query, pair.query, false), span_text(candidate, pair.candidate, true));
        let (role, role_ar) = role(pair.query.0, query.tokens.len());
        reasons.push(Reason {
            feature: "name",
            supports: true,
            text: concat(&[role, " ", &q, " ≈ ", &c, " (", pair.kind.as_str(), ")"]),
            text_ar: concat(&[role_ar, " ", &q, " ≈ ", &c, " (", kind_ar(pair.kind), ")"]),
        });
    }
    for &i in &alignment.unmatched_candidate {
        let ((role, role_ar), text) = (role(i, candidate.tokens.len()), span_text(candidate, (i, 1), true));
        reasons.push(Reason {
            feature: "name",
            supports: false,
            text: concat(&[role, " ", &text, " of the alert is not in the query"]),
            text_ar: concat(&[role_ar, " ", &text, " في التنبيه ليس في بيانات المسافر"]),
        });
    }
    for &i in &alignment.unmatched_query {
        let ((role, role_ar), text) = (role(i, query.tokens.len()), &query.tokens[i].text);
        reasons.push(Reason {
            feature: "name",
            supports: false,
            text: concat(&[role, " ", text, " of the query is not in the alert"]),
            text_ar: concat(&[role_ar, " ", text, " في بيانات المسافر ليس في التنبيه"]),
        });
    }
}

/// Why a hit whose names differ scores lower: the names it agrees on are common.
fn namesakes_reason(query: &Name, alignment: &Alignment, namesakes: u32, reasons: &mut Vec<Reason>) {
    let mut names = String::new();
    for pair in &alignment.pairs {
        if !names.is_empty() {
            names.push(' ');
        }
        names.push_str(&span_text(query, pair.query, false));
    }
    let count = if namesakes >= model::NAMESAKES_COUNTED_MAX {
        format!("{}+", model::NAMESAKES_COUNTED_MAX)
    } else {
        namesakes.to_string()
    };
    reasons.push(Reason {
        feature: "name",
        supports: false,
        text: concat(&[&count, " alerts share the names ", &names, ": a namesake?"]),
        text_ar: concat(&["الأسماء ", &names, " مشتركة بين ", &count, " تنبيهات: تشابه أسماء؟"]),
    });
}

/// Evidence other than names.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OtherFeatures {
    pub date_exact: f32,
    pub date_partial: f32,
    pub date_same_year_other_day: f32,
    pub date_swapped: f32,
    pub date_near: f32,
    pub date_conflict: f32,
    pub nationality_match: f32,
    pub nationality_conflict: f32,
    pub gender_match: f32,
    pub gender_conflict: f32,
    pub document_match: f32,
    pub document_conflict: f32,
    /// Not a fitted feature: the birth years are a generation apart (see
    /// [`model::GENERATION_APART`]).
    pub generation_apart: bool,
    /// The smallest gap between the two persons' birth years, when both are known.
    pub year_gap: Option<u16>,
}

impl OtherFeatures {
    pub const COUNT: usize = 12;

    pub fn to_array(&self) -> [f32; Self::COUNT] {
        [
            self.date_exact,
            self.date_partial,
            self.date_same_year_other_day,
            self.date_swapped,
            self.date_near,
            self.date_conflict,
            self.nationality_match,
            self.nationality_conflict,
            self.gender_match,
            self.gender_conflict,
            self.document_match,
            self.document_conflict,
        ]
    }

    fn reasons(&self, query: &PreparedPerson, candidate: &PreparedPerson, reasons: &mut Vec<Reason>) {
        let mut say = |feature: &'static str, supports: bool, text: String, text_ar: String| {
            reasons.push(Reason { feature, supports, text, text_ar })
        };
        // The dates and codes are written only into the reasons that say them (most hits of a
        // manifest say no nationality, many no birth date), each straight into its text.
        let write_date = |text: &mut String, date: &PartialDate| date.write_into(text);
        let dates = |both: bool, before: &str| {
            lists(before, &query.birth_dates, both.then_some(&candidate.birth_dates[..]), write_date)
        };
        // Whether it speaks for the match, whether the alert's dates are said too, the texts
        // before the dates.
        let date_reason: Option<(bool, bool, Cow<str>, Cow<str>)> = if self.date_exact > 0.0 {
            Some((true, false, "birth date matches (".into(), "تاريخ الميلاد مطابق (".into()))
        } else if self.date_partial > 0.0 {
            Some((
                true,
                true,
                "birth date agrees as far as known (".into(),
                "تاريخ الميلاد متفق في حدود المعروف (".into(),
            ))
        } else if self.date_swapped > 0.0 {
            Some((
                true,
                true,
                "birth date matches with day and month swapped (".into(),
                "تاريخ الميلاد مطابق مع تبديل اليوم والشهر (".into(),
            ))
        } else if self.date_same_year_other_day > 0.0 {
            Some((true, true, "birth year matches, day differs (".into(), "سنة الميلاد مطابقة واليوم مختلف (".into()))
        } else if self.date_near > 0.0 {
            Some((true, true, "birth year close (".into(), "سنة الميلاد قريبة (".into()))
        } else if self.generation_apart {
            let gap = self.year_gap.unwrap_or_default().to_string();
            Some((
                false,
                true,
                concat(&["born ", &gap, " years apart: another generation, a relative? ("]).into(),
                concat(&["بين الميلادين ", &gap, " سنة: جيل آخر، ربما قريب؟ ("]).into(),
            ))
        } else if self.date_conflict > 0.0 {
            Some((false, true, "birth dates differ (".into(), "تاريخا الميلاد مختلفان (".into()))
        } else {
            None
        };
        if let Some((supports, both, text, text_ar)) = date_reason {
            say("birth-date", supports, dates(both, &text), dates(both, &text_ar));
        }
        let write_code = |text: &mut String, code: &CountryCode| text.push_str(code.as_str());
        let codes = |both: bool, before: &str| {
            lists(before, &query.nationalities, both.then_some(&candidate.nationalities[..]), write_code)
        };
        if self.nationality_match > 0.0 {
            say("nationality", true, codes(false, "nationality matches ("), codes(false, "الجنسية مطابقة ("));
        } else if self.nationality_conflict > 0.0 {
            say("nationality", false, codes(true, "nationality differs ("), codes(true, "الجنسية مختلفة ("));
        }
        if self.gender_conflict > 0.0 {
            say("gender", false, "gender differs".into(), "الجنس مختلف".into());
        }
        if self.document_match > 0.0 {
            say("document", true, "document number matches".into(), "رقم الوثيقة مطابق".into());
        } else if self.document_conflict > 0.0 {
            say("document", false, "document numbers differ".into(), "رقما الوثيقتين مختلفان".into());
        }
    }
}

/// A reason's text that says lists of the query's items and, when given, the alert's:
/// `before`, the query's separated by commas, ` / ` and the alert's, then `)`.
fn lists<T>(before: &str, query: &[T], alert: Option<&[T]>, write: impl Fn(&mut String, &T)) -> String {
    let mut text = String::with_capacity(before.len() + 24);
    text.push_str(before);
    let write_list = |text: &mut String, items: &[T]| {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            write(text, item);
        }
    };
    write_list(&mut text, query);
    if let Some(alert) = alert {
        text.push_str(" / ");
        write_list(&mut text, alert);
    }
    text.push(')');
    text
}

/// What birth dates, nationality, gender and documents alone say, as a logit: cheap, for
/// ranking candidates before their names are compared in full.
pub fn evidence_logit(query: &PreparedPerson, candidate: &PreparedPerson) -> f32 {
    model::other_logit(&other_features(query, candidate))
}

/// What [`evidence_logit`] reads of a person, inline: an index keeps one per alert in a dense
/// array, so that ranking hundreds of candidates reads nothing else. At most two birth dates,
/// three nationalities and two document numbers (as 64-bit hashes); [`Facts::of`] gives none
/// for a person with more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Facts {
    births: [PartialDate; 2],
    births_len: u8,
    nationalities: [[u8; 2]; 3],
    nationalities_len: u8,
    documents: [u64; 2],
    documents_len: u8,
    gender: Option<Gender>,
}

impl Facts {
    pub fn of(person: &PreparedPerson) -> Option<Facts> {
        if person.birth_dates.len() > 2 || person.nationalities.len() > 3 || person.documents.len() > 2 {
            return None;
        }
        // Never read past the lengths: only fills the arrays.
        let filler = PartialDate::from(time::Date::MIN);
        let mut facts = Facts {
            births: [filler; 2],
            births_len: person.birth_dates.len() as u8,
            nationalities: [[0; 2]; 3],
            nationalities_len: person.nationalities.len() as u8,
            documents: [0; 2],
            documents_len: person.documents.len() as u8,
            gender: person.gender,
        };
        facts.births[..person.birth_dates.len()].copy_from_slice(&person.birth_dates);
        for (slot, code) in facts.nationalities.iter_mut().zip(&person.nationalities) {
            slot.copy_from_slice(&code.as_str().as_bytes()[..2]);
        }
        for (slot, number) in facts.documents.iter_mut().zip(&person.documents) {
            *slot = document_hash(number);
        }
        Some(facts)
    }

    fn births(&self) -> &[PartialDate] {
        &self.births[..usize::from(self.births_len)]
    }

    fn nationalities(&self) -> &[[u8; 2]] {
        &self.nationalities[..usize::from(self.nationalities_len)]
    }

    fn documents(&self) -> &[u64] {
        &self.documents[..usize::from(self.documents_len)]
    }
}

fn document_hash(number: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    number.hash(&mut hasher);
    hasher.finish()
}

/// [`evidence_logit`] of two persons' [`Facts`] (equal but for the one-in-2^64 chance of two
/// document numbers hashing alike).
pub fn facts_logit(query: &Facts, candidate: &Facts) -> f32 {
    let features = features_from(
        compare_dates(query.births(), candidate.births()),
        agreement(query.nationalities(), candidate.nationalities()),
        query.gender.zip(candidate.gender).map(|(q, c)| q == c),
        agreement(query.documents(), candidate.documents()),
    );
    model::other_logit(&features)
}

fn other_features(query: &PreparedPerson, candidate: &PreparedPerson) -> OtherFeatures {
    features_from(
        compare_dates(&query.birth_dates, &candidate.birth_dates),
        agreement(&query.nationalities, &candidate.nationalities),
        query.gender.zip(candidate.gender).map(|(q, c)| q == c),
        agreement(&query.documents, &candidate.documents),
    )
}

/// Whether two lists share an element; `None` when either is empty.
fn agreement<T: PartialEq>(query: &[T], candidate: &[T]) -> Option<bool> {
    (!query.is_empty() && !candidate.is_empty()).then(|| query.iter().any(|q| candidate.contains(q)))
}

/// How two lists of birth dates agree: the best [`date_rank`] of two of their dates, the
/// smallest gap between their years, and, when that gap is more than a generation, whether two
/// years are a typing slip apart.
fn compare_dates(query: &[PartialDate], candidate: &[PartialDate]) -> Option<(u8, u16, bool)> {
    if let ([q], [c]) = (query, candidate) {
        // One date each, as nearly every traveller and alert has: no loops.
        let (qy, cy) = (q.year_value(), c.year_value());
        let gap = qy.abs_diff(cy);
        return Some((date_rank(*q, *c), gap, gap > model::GENERATION_YEARS && typing_slip(qy, cy)));
    }
    if query.is_empty() || candidate.is_empty() {
        return None;
    }
    let (mut best, mut gap) = (0u8, u16::MAX);
    for q in query {
        for c in candidate {
            best = best.max(date_rank(*q, *c));
            gap = gap.min(q.year_value().abs_diff(c.year_value()));
        }
    }
    // A slip only matters to years a generation apart (ranking asks this of hundreds of
    // candidates a check, most born near the traveller).
    let slip = gap > model::GENERATION_YEARS
        && query.iter().any(|q| candidate.iter().any(|c| typing_slip(q.year_value(), c.year_value())));
    Some((best, gap, slip))
}

fn features_from(
    dates: Option<(u8, u16, bool)>,
    nationality: Option<bool>,
    gender: Option<bool>,
    document: Option<bool>,
) -> OtherFeatures {
    let mut f = OtherFeatures::default();
    if let Some((best, gap, slip)) = dates {
        f.year_gap = Some(gap);
        f.generation_apart = gap > model::GENERATION_YEARS && !slip;
        match best {
            6 => f.date_exact = 1.0,
            5 => f.date_partial = 1.0,
            4 => f.date_swapped = 1.0,
            3 => f.date_same_year_other_day = 1.0,
            2 => f.date_near = 1.0,
            _ => f.date_conflict = 1.0,
        }
    }
    let flag = |agrees: Option<bool>| (f32::from(agrees == Some(true)), f32::from(agrees == Some(false)));
    (f.nationality_match, f.nationality_conflict) = flag(nationality);
    (f.gender_match, f.gender_conflict) = flag(gender);
    (f.document_match, f.document_conflict) = flag(document);
    f
}

/// Whether two years are one typing slip apart: two adjacent digits swapped (1958 / 1985).
/// (One digit changed is either the last one, at most nine years, or a real difference: a
/// father born in 1955 and his son in 1985 differ in one digit.)
fn typing_slip(a: i16, b: i16) -> bool {
    // Swapping two adjacent digits changes a number by their difference times 9, 90 or 900:
    // most pairs of years are told apart by that alone (ranking asks this of hundreds).
    if a == b || a < 0 || b < 0 || a > 9999 || b > 9999 || !a.abs_diff(b).is_multiple_of(9) {
        return false;
    }
    // The four digits of each year, most significant first.
    let digits = |year: i16| {
        let year = year as u16;
        [year / 1000, year / 100 % 10, year / 10 % 10, year % 10]
    };
    let (a, b) = (digits(a), digits(b));
    let mut differing = (0..4).filter(|&i| a[i] != b[i]);
    match (differing.next(), differing.next(), differing.next()) {
        (Some(i), Some(j), None) => j == i + 1 && a[i] == b[j] && a[j] == b[i],
        _ => false,
    }
}

#[cfg(test)]
mod typing_slip_tests {
    use super::typing_slip;

    #[test]
    fn only_two_adjacent_digits_swapped_are_a_slip() {
        for (a, b, slip) in [
            (1958, 1985, true),
            (1985, 1958, true),
            (1895, 1985, true),
            (1955, 1985, false),
            (1958, 1958, false),
            (1958, 1589, false),
            (1985, 1859, false),
            (2001, 2010, true),
            (-1, 1, false),
            (912, 192, true),
        ] {
            assert_eq!(typing_slip(a, b), slip, "{a} {b}");
        }
    }

    /// Every pair of years a slip apart, found by swapping digits, and no other.
    #[test]
    fn slips_are_the_swaps_of_adjacent_digits() {
        let years = 1000..=2999;
        let mut swaps = std::collections::HashSet::new();
        for year in years.clone() {
            let digits: Vec<u8> = format!("{year}").into_bytes();
            for i in 0..3 {
                let mut swapped = digits.clone();
                swapped.swap(i, i + 1);
                let other: i16 = String::from_utf8(swapped).unwrap().parse().unwrap();
                if other != year {
                    swaps.insert((year, other));
                }
            }
        }
        for a in years.clone() {
            for b in years.clone() {
                assert_eq!(typing_slip(a, b), swaps.contains(&(a, b)), "{a} {b}");
            }
        }
    }
}

/// How well two birth dates agree: 6 the same day, 5 the same as far as both are known, 4 day
/// and month swapped, 3 the same year, 2 a year or two apart, 1 further.
fn date_rank(a: PartialDate, b: PartialDate) -> u8 {
    let (ya, yb) = (a.year_value(), b.year_value());
    if ya == yb {
        match (a.month(), b.month(), a.day(), b.day()) {
            (Some(ma), Some(mb), Some(da), Some(db)) if ma == mb && da == db => 6,
            (Some(ma), Some(mb), Some(da), Some(db)) if ma == db && da == mb => 4,
            (Some(ma), Some(mb), _, _) if ma != mb => 3,
            (Some(_), Some(_), Some(_), Some(_)) => 3,
            _ => 5,
        }
    } else if ya.abs_diff(yb) <= 2 {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod facts_tests {
    use super::*;

    fn person(dates: &[&str], nationalities: &[&str], gender: Option<Gender>, documents: &[&str]) -> PreparedPerson {
        PersonQuery {
            names: vec!["Ali Hassan".into()],
            birth_dates: dates.iter().map(|d| PartialDate::parse(d).unwrap()).collect(),
            nationalities: nationalities.iter().map(|n| CountryCode::new(n).unwrap()).collect(),
            gender,
            documents: documents.iter().map(|d| d.to_string()).collect(),
        }
        .prepare()
    }

    #[test]
    fn facts_give_the_evidence_logit_of_the_persons() {
        let people = [
            person(&[], &[], None, &[]),
            person(&["1985-03-04"], &["IQ"], Some(Gender::Male), &["A1234567"]),
            person(&["1985-04-03", "1958"], &["IQ", "SY"], Some(Gender::Male), &["a123-4567"]),
            person(&["1958-03-04"], &["FR"], Some(Gender::Female), &["B7654321", "C1"]),
            person(&["1986"], &["SY", "TR", "IR"], None, &[]),
            person(&["1985-03"], &[], Some(Gender::Female), &["C1"]),
        ];
        for q in &people {
            for c in &people {
                let (qf, cf) = (Facts::of(q).unwrap(), Facts::of(c).unwrap());
                assert_eq!(facts_logit(&qf, &cf), evidence_logit(q, c), "{q:?} / {c:?}");
            }
        }
        let many = person(&["1985", "1986", "1987"], &[], None, &[]);
        assert_eq!(Facts::of(&many), None);
    }
}

#[cfg(test)]
mod reasons_tests {
    use super::*;

    #[test]
    fn every_reason_is_written_in_english_and_in_arabic() {
        let person = |name: &str, date: &str, nationality: &str| {
            PersonQuery {
                names: vec![name.into()],
                birth_dates: vec![PartialDate::parse(date).unwrap()],
                nationalities: vec![CountryCode::new(nationality).unwrap()],
                gender: Some(Gender::Male),
                documents: vec![],
            }
            .prepare()
        };
        let result = score(
            &person("ABDULAMEER HASSAN ALSHAMMARI", "1985-03-04", "IQ"),
            &person("عبد الأمير الشمري", "1985-04-03", "SY"),
        );
        assert!(result.reasons.len() >= 3, "{:?}", result.reasons);
        for reason in &result.reasons {
            assert!(!reason.text.is_empty(), "{reason:?}");
            assert!(reason.text_ar.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)), "{reason:?}");
        }
        let texts: Vec<&str> = result.reasons.iter().map(|r| r.text_ar.as_str()).collect();
        assert!(texts.iter().any(|t| t.contains("الاسم الأول") && t.contains('≈')), "{texts:?}");
        assert!(texts.iter().any(|t| t.starts_with("تاريخ الميلاد مطابق مع تبديل اليوم والشهر")), "{texts:?}");
        assert!(texts.iter().any(|t| t.starts_with("الجنسية مختلفة")), "{texts:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A span's text is its tokens' texts joined by spaces, each upper-cased on the alert's
    /// side, whether it is borrowed or written.
    #[test]
    fn spans_read_as_their_tokens_written() {
        for written in [
            "Abdul Amir al-Shammari",
            "ABDULAMEER ALSHAMMARI",
            "عبد الأمير الشمري",
            "Straße Oğuz Yılmaz",
            "ǅemal Ǉubo",
            "Vít Rakušan",
            "Ali",
        ] {
            let name = tabadul_names::analyze(written);
            for start in 0..name.tokens.len() {
                for len in 1..=name.tokens.len() - start {
                    let tokens = &name.tokens[start..start + len];
                    let lower: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
                    let upper: Vec<String> =
                        tokens.iter().map(|t| t.text.chars().flat_map(char::to_uppercase).collect()).collect();
                    assert_eq!(span_text(&name, (start, len), false), lower.join(" "), "{written}");
                    assert_eq!(span_text(&name, (start, len), true), upper.join(" "), "{written}");
                }
            }
        }
    }
}
