//! The index against a slow, obviously correct model: score every alert the viewer may see.

use proptest::prelude::*;
use tabadul_domain::{AgencyCode, AlertId, Category, CountryCode, PartialDate, Visibility};
use tabadul_engine::{PersonQuery, score};
use tabadul_index::{Change, Index, IndexedAlert, IndexedSubject, SearchOptions, Viewer};

/// Spellings of a few people, in both scripts, with their relatives' names mixed in.
const NAMES: &[&str] = &[
    "عبد الأمير الشمري",
    "Abdul Amir al-Shammari",
    "ABDULAMEER ALSHAMMARI",
    "Hussein Abdul Amir al-Shammari",
    "محمد علي حسن",
    "Mohammed Ali Hassan",
    "Muhammad Ali",
    "Mohamed Hassan Ali",
    "فاطمة الزهراء الجبوري",
    "Fatima al-Jubouri",
    "Zainab al-Jubouri",
    "خالد عبد الرحمن الفواز",
    "Khalid al-Fawwaz",
    "Khaled Abdulrahman Fawaz",
    "Youssef al-Qaradawi",
    "يوسف القرضاوي",
    "Jan Novák",
    "Petr Novák",
    "Sirajuddin Haqqani",
    "سراج الدين حقاني",
];

/// Spellings of the same people that no alert has.
const MISSPELT: &[&str] = &["ABDULAMIR ALSHAMARI", "Mohamad Aly Hasan", "Fatma Jboori", "Khalid Abdulrahmane Fawwas"];

const AGENCIES: &[&str] = &["IQ-MOI", "CZ-MV", "GB-HO"];
const CATEGORIES: &[Category] = &[Category::SuspectedSmuggler, Category::WantedForArrest, Category::TraffickingRisk];

fn today() -> time::Date {
    time::macros::date!(2026 - 11 - 29)
}

/// IQ-MOI sees everything in full but wanted persons of others, which it sees at hit level.
struct TestViewer;

impl Viewer for TestViewer {
    fn visibility(&self, owner: &AgencyCode, category: Category, _: Option<time::Date>) -> Visibility {
        match (owner.as_str(), category) {
            ("IQ-MOI", _) => Visibility::Full,
            ("GB-HO", Category::TraffickingRisk) => Visibility::Hidden,
            (_, Category::WantedForArrest) => Visibility::HitOnly,
            _ => Visibility::Full,
        }
    }
}

fn person(name: &str, year: Option<i16>) -> PersonQuery {
    PersonQuery {
        names: vec![name.to_string()],
        birth_dates: year.and_then(|y| PartialDate::year(y).ok()).into_iter().collect(),
        nationalities: vec![CountryCode::new("IQ").unwrap()],
        ..PersonQuery::default()
    }
}

prop_compose! {
    fn an_alert()(id in 1u128..1_000_000, name in 0..NAMES.len(), year in proptest::option::of(1960i16..1965),
                  owner in 0..AGENCIES.len(), category in 0..CATEGORIES.len(), expired in proptest::bool::weighted(0.1))
                  -> IndexedAlert {
        IndexedAlert {
            id: AlertId(id),
            owner: AgencyCode::new(AGENCIES[owner]).unwrap(),
            category: CATEGORIES[category],
            expires: expired.then_some(time::macros::date!(2026 - 01 - 01)),
            subject: IndexedSubject::Person(person(NAMES[name], year)),
        }
    }
}

/// The model: every live person alert the viewer may see, scored in full.
fn brute_force(alerts: &[IndexedAlert], query: &PersonQuery, options: &SearchOptions) -> Vec<(AlertId, f32)> {
    let prepared = query.prepare();
    let mut latest: std::collections::BTreeMap<AlertId, &IndexedAlert> = Default::default();
    for alert in alerts {
        latest.insert(alert.id, alert);
    }
    let mut hits: Vec<(AlertId, f32)> = latest
        .values()
        .filter(|a| a.expires.is_none_or(|e| options.today <= e))
        .filter(|a| TestViewer.visibility(&a.owner, a.category, a.expires) != Visibility::Hidden)
        .filter_map(|a| match &a.subject {
            IndexedSubject::Person(p) => Some((a.id, score(&prepared, &p.prepare()).score)),
            _ => None,
        })
        .filter(|(_, s)| *s >= options.threshold)
        .collect();
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    hits.truncate(options.limit);
    hits
}

fn searched(index: &Index, query: &PersonQuery, options: &SearchOptions) -> Vec<(AlertId, f32)> {
    let (hits, _) = index.search_person(&query.prepare(), &TestViewer, options);
    hits.into_iter().map(|h| (h.id, h.result.score)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_index_finds_what_scoring_everything_finds(
        alerts in proptest::collection::vec(an_alert(), 1..80),
        query in 0..NAMES.len(),
        year in proptest::option::of(1960i16..1965),
    ) {
        let options = SearchOptions { limit: 100, namesakes: false, ..SearchOptions::new(today()) };
        let query = person(NAMES[query], year);
        let index = Index::build(alerts.clone());
        prop_assert_eq!(searched(&index, &query, &options), brute_force(&alerts, &query, &options));
    }

    #[test]
    fn a_batch_of_searches_finds_what_each_search_alone_finds(
        alerts in proptest::collection::vec(an_alert(), 1..60),
        later in proptest::collection::vec(an_alert(), 0..20),
        queries in proptest::collection::vec((0..NAMES.len() + MISSPELT.len(), proptest::option::of(1960i16..1965)), 1..12),
        change_at in 0usize..12,
    ) {
        // Names outside the vocabulary (misspelt, as carriers send them) come again and again
        // in one batch, and the snapshot may change in the middle of it.
        let options = SearchOptions { limit: 100, ..SearchOptions::new(today()) };
        let mut index = Index::build(alerts);
        let mut batch = tabadul_index::SearchBatch::default();
        for (at, (name, year)) in queries.into_iter().enumerate() {
            if at == change_at {
                index = index.apply(later.iter().cloned().map(Change::Upsert).collect());
            }
            let name = NAMES.get(name).copied().unwrap_or_else(|| MISSPELT[name - NAMES.len()]);
            let query = person(name, year).prepare();
            let (alone, _) = index.search_person(&query, &TestViewer, &options);
            let (batched, _) = index.search_person_in(&query, &TestViewer, &options, &mut batch);
            let ids = |hits: Vec<tabadul_index::PersonHit>| -> Vec<(AlertId, f32)> {
                hits.into_iter().map(|h| (h.id, h.result.score)).collect()
            };
            prop_assert_eq!(ids(batched), ids(alone));
        }
    }

    #[test]
    fn applying_changes_equals_building_afresh(
        first in proptest::collection::vec(an_alert(), 1..40),
        second in proptest::collection::vec(an_alert(), 0..40),
        removed in proptest::collection::vec(0usize..80, 0..10),
        query in 0..NAMES.len(),
    ) {
        let options = SearchOptions { limit: 100, ..SearchOptions::new(today()) };
        let all: Vec<IndexedAlert> = first.iter().chain(&second).cloned().collect();
        let removed: Vec<AlertId> = removed.iter().filter_map(|i| all.get(*i).map(|a| a.id)).collect();
        let mut changes: Vec<Change> = second.iter().cloned().map(Change::Upsert).collect();
        changes.extend(removed.iter().map(|id| Change::Remove(*id)));
        let updated = Index::build(first.clone()).apply(changes);
        let kept: Vec<IndexedAlert> = all.iter().filter(|a| !removed.contains(&a.id)).cloned().collect();
        let afresh = Index::build(kept);
        let query = person(NAMES[query], None);
        prop_assert_eq!(updated.len(), afresh.len());
        prop_assert_eq!(searched(&updated, &query, &options), searched(&afresh, &query, &options));
        prop_assert_eq!(searched(&updated.compact(), &query, &options), searched(&afresh, &query, &options));
    }
}

#[test]
fn documents_and_vehicles_are_found_exactly() {
    let document = |id: u128, number: &str, state: &str| IndexedAlert {
        id: AlertId(id),
        owner: AgencyCode::new("IQ-MOI").unwrap(),
        category: Category::StolenDocument,
        expires: None,
        subject: IndexedSubject::Document { number: number.into(), issuing_state: state.into() },
    };
    let vehicle = IndexedAlert {
        id: AlertId(3),
        owner: AgencyCode::new("CZ-MV").unwrap(),
        category: Category::StolenVehicle,
        expires: None,
        subject: IndexedSubject::Vehicle {
            vin: Some("WVWZZZ1JZXW000001".into()),
            plate: Some("1AB 2345".into()),
            plate_country: Some("CZ".into()),
        },
    };
    let index = Index::build(vec![document(1, "A1234567", "IRQ"), document(2, "C01X00T47", "D"), vehicle]);
    let ids = |hits: Vec<tabadul_index::ExactHit>| hits.into_iter().map(|h| h.id.0).collect::<Vec<_>>();
    assert_eq!(ids(index.search_document("a 123-4567", "irq", &TestViewer, today())), [1]);
    assert_eq!(ids(index.search_document("A1234567", "GBR", &TestViewer, today())), Vec::<u128>::new());
    assert_eq!(ids(index.search_document("C01X00T47", "DEU", &TestViewer, today())), [2]);
    assert_eq!(ids(index.search_vehicle(Some("wvwzzz1jzxw000001"), None, &TestViewer, today())), [3]);
    assert_eq!(ids(index.search_vehicle(None, Some("1AB-2345"), &TestViewer, today())), [3]);
    let removed = index.apply(vec![Change::Remove(AlertId(1))]);
    assert!(removed.search_document("A1234567", "IRQ", &TestViewer, today()).is_empty());
    assert_eq!(removed.len(), 2);
}

#[test]
fn a_check_across_scripts_finds_every_spelling() {
    let alerts: Vec<IndexedAlert> = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| IndexedAlert {
            id: AlertId(i as u128 + 1),
            owner: AgencyCode::new("CZ-MV").unwrap(),
            category: Category::SuspectedSmuggler,
            expires: None,
            subject: IndexedSubject::Person(person(name, None)),
        })
        .collect();
    let index = Index::build(alerts.clone());
    let options = SearchOptions { limit: 100, namesakes: false, ..SearchOptions::new(today()) };
    let query = person("عبد الأمير الشمري", None);
    let found: Vec<u128> = searched(&index, &query, &options).iter().map(|(id, _)| id.0).collect();
    assert!(found.starts_with(&[1]), "{found:?}");
    for spelling in [2, 3] {
        assert!(found.contains(&spelling), "{found:?}");
    }
    assert!(!found.contains(&17), "Jan Novák: {found:?}");
    assert_eq!(searched(&index, &query, &options), brute_force(&alerts, &query, &options));
}

/// The person looked for is an alert whose every name is frequent, and the traveller gives a
/// rarer name the alert lacks (a tribe, a grandfather): the rare name matches others, but it must
/// not be the only door to the candidates.
#[test]
fn a_rare_name_the_alert_lacks_does_not_hide_it_among_frequent_names() {
    let mut alerts = Vec::new();
    let mut add = |name: &str, year: i16| {
        let id = AlertId(alerts.len() as u128 + 1);
        alerts.push(IndexedAlert {
            id,
            owner: AgencyCode::new("IQ-MOI").unwrap(),
            category: Category::WantedForArrest,
            expires: None,
            subject: IndexedSubject::Person(person(name, Some(year))),
        });
        id
    };
    // Thousands share each of the wanted man's names, two at a time.
    for i in 0..2_500 {
        let year = 1940 + (i % 25) as i16;
        add("Ahmed Salem al-Tikriti", year);
        add("Omar Jasim al-Tikriti", year);
        add("Ahmed Jasim al-Dulaimi", year);
    }
    for year in [1961, 1983, 1990] {
        add("Karim al-Zubaidi", year);
    }
    let wanted = add("Ahmed Jasim al-Tikriti", 1970);
    let index = Index::build(alerts);
    let query = person("Ahmed Jasim al-Tikriti al-Zubaidi", Some(1970));
    let found = searched(&index, &query, &SearchOptions::new(today()));
    assert_eq!(found.first().map(|(id, _)| *id), Some(wanted), "{:?}", &found[..found.len().min(5)]);
}

#[test]
fn checks_read_whole_snapshots_while_changes_are_applied() {
    use std::sync::Arc;
    use tabadul_index::SharedIndex;

    let alert = |id: u128, name: &str| IndexedAlert {
        id: AlertId(id),
        owner: AgencyCode::new("IQ-MOI").unwrap(),
        category: Category::SuspectedSmuggler,
        expires: None,
        subject: IndexedSubject::Person(person(name, None)),
    };
    let shared = Arc::new(SharedIndex::new(Index::build(vec![alert(1, "Abdul Amir al-Shammari")])));
    let query = person("عبد الأمير الشمري", None);
    let options = SearchOptions::new(today());
    std::thread::scope(|scope| {
        let reader = {
            let shared = shared.clone();
            let (query, options) = (&query, &options);
            scope.spawn(move || {
                let mut seen = Vec::new();
                for _ in 0..200 {
                    // Each snapshot holds alert 1 and either all of 2..=11 or none of them.
                    let snapshot = shared.snapshot();
                    let found = searched(&snapshot, query, options);
                    assert!(found.iter().any(|(id, _)| id.0 == 1));
                    assert!(matches!(snapshot.len(), 1 | 11 | 21), "{}", snapshot.len());
                    seen.push(snapshot.len());
                }
                seen
            })
        };
        for round in 0..2u128 {
            let batch =
                (0..10u128).map(|i| Change::Upsert(alert(2 + round * 10 + i, "Abdulameer Alshammari"))).collect();
            shared.apply(batch);
        }
        let seen = reader.join().unwrap();
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "snapshots only move forward");
    });
    assert_eq!(shared.snapshot().len(), 21);
    assert_eq!(shared.compact().len(), 21);
    let all = SearchOptions { limit: 100, ..options };
    assert_eq!(searched(&shared.snapshot(), &query, &all).len(), 21);
}

/// A traveller whose names agree with an alert's in part only (the father's name differs) is
/// one of the alerts that carry the names agreed on, at most: the odds are shared among those
/// the viewer may see; an alert whose every name agrees keeps its own.
#[test]
fn a_partial_match_shares_its_odds_with_its_namesakes() {
    let alert = |id: u128, name: &str, owner: &str, category: Category| IndexedAlert {
        id: AlertId(id),
        owner: AgencyCode::new(owner).unwrap(),
        category,
        expires: None,
        subject: IndexedSubject::Person(person(name, None)),
    };
    let fathers = ["Hassan", "Kadhim", "Salman", "Mahdi", "Karim", "Sabah", "Adnan"];
    let mut alerts = vec![alert(1, "علي حسن التميمي", "IQ-MOI", Category::SuspectedSmuggler)];
    for (i, father) in fathers.iter().enumerate() {
        alerts.push(alert(10 + i as u128, &format!("Ali {father} al-Tamimi"), "CZ-MV", Category::SuspectedSmuggler));
    }
    // Two the viewer may not see, and a namesake of another family.
    alerts.push(alert(30, "Ali Wahid al-Tamimi", "GB-HO", Category::TraffickingRisk));
    alerts.push(alert(31, "Ali Majid al-Tamimi", "GB-HO", Category::TraffickingRisk));
    alerts.push(alert(32, "Ali Hassan al-Dulaimi", "IQ-MOI", Category::SuspectedSmuggler));
    let index = Index::build(alerts);
    let options = SearchOptions { limit: 100, threshold: 0.0, ..SearchOptions::new(today()) };
    let pairwise = SearchOptions { namesakes: false, ..options };
    let hits = |query: &str, options: &SearchOptions| {
        let (hits, _) = index.search_person(&person(query, None).prepare(), &TestViewer, options);
        hits.into_iter().map(|h| (h.id.0, h.result)).collect::<std::collections::BTreeMap<_, _>>()
    };

    // Ali Jasim al-Tamimi: every Ali al-Tamimi the viewer sees (8) agrees on two names of three.
    let shared = hits("Ali Jasim al-Tamimi", &options);
    let alone = hits("Ali Jasim al-Tamimi", &pairwise);
    for id in [1, 10, 16] {
        let (result, pair) = (&shared[&id], &alone[&id]);
        assert_eq!(result.namesakes, 8, "alert {id}");
        let expected = tabadul_engine::model::sigmoid(pair.logit - 8f32.ln());
        assert!((result.score - expected).abs() < 1e-6, "alert {id}: {} / {expected}", result.score);
        assert!(result.reasons.iter().any(|r| r.text.starts_with("8 alerts share the names")), "{:?}", result.reasons);
    }
    assert!(!shared.contains_key(&30) && !shared.contains_key(&31), "hidden alerts are neither found nor counted");

    // Ali Hassan al-Tamimi: alert 1 (and 10) agree on every name and keep their odds.
    let full = hits("Ali Hassan al-Tamimi", &options);
    assert_eq!(full[&1].namesakes, 0);
    assert_eq!(full[&1].score, hits("Ali Hassan al-Tamimi", &pairwise)[&1].score);
    // Ali Hassan al-Dulaimi agrees on ali hassan only, which alerts 1 and 10 carry too.
    assert_eq!(full[&32].namesakes, 3, "{:?}", full[&32].reasons);
}

#[test]
fn namesakes_past_the_candidate_budget_are_chosen_by_alert_id_in_any_layout() {
    // Sixty alerts that tie on everything, their ids out of order, over one or two segments:
    // the budget of eight is filled with the lowest ids, so a check finds the same alerts
    // however the index was built.
    let alert = |id: u128| IndexedAlert {
        id: AlertId(id),
        owner: AgencyCode::new("IQ-MOI").unwrap(),
        category: Category::WantedForArrest,
        expires: None,
        subject: IndexedSubject::Person(person("Mohammed Ali Hassan", Some(1962))),
    };
    let ids: Vec<u128> = (0..60u128).map(|i| (i * 37) % 60 + 1).collect();
    let options = SearchOptions { limit: 8, candidates_max: 8, ..SearchOptions::new(today()) };
    let query = person("Mohammed Ali Hassan", Some(1962));
    let whole = Index::build(ids.iter().map(|id| alert(*id)).collect());
    let (first, second) = ids.split_at(25);
    let parts = Index::build(first.iter().map(|id| alert(*id)).collect())
        .apply(second.iter().map(|id| Change::Upsert(alert(*id))).collect());
    let lowest: Vec<AlertId> = (1..=8).map(AlertId).collect();
    for index in [&whole, &parts] {
        let mut found: Vec<AlertId> = searched(index, &query, &options).into_iter().map(|(id, _)| id).collect();
        found.sort();
        assert_eq!(found, lowest);
    }
}
