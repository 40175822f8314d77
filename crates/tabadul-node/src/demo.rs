//! The demo: the partners of the London border-security summit, their agreements, and
//! synthetic alerts in Arabic and Latin script. Every name is made up from common given and
//! family names; any likeness to a real person is chance. Deterministic: the same call gives
//! the same people (the ids differ).

use serde::Serialize;
use tabadul_domain::{
    Agency, AgencyCode, Category, CountryCode, DocumentStatus, DocumentType, Gender, HandlingCode, IcaoState,
    IdentityDocument, NameKind, PartialDate, Person, PersonName, SharingLevel, Subject, TravelDocument, Vehicle,
    WarningMarker,
};

use std::sync::{Arc, Mutex};

use tabadul_store::AlertFilter;

use crate::{Actor, AgreementDraft, AlertDraft, CheckRequest, Clock, Node, NodeKey, OutcomeKind, Result};

/// The summit's partners: code, country, English name, Arabic name.
pub const AGENCIES: &[(&str, &str, &str, &str)] = &[
    ("IQ-MOI", "IQ", "Ministry of Interior of Iraq", "وزارة الداخلية العراقية"),
    ("GB-HO", "GB", "Home Office of the United Kingdom", "وزارة الداخلية البريطانية"),
    ("FR-MI", "FR", "Ministry of the Interior of France", "وزارة الداخلية الفرنسية"),
    ("CZ-MV", "CZ", "Ministry of the Interior of the Czech Republic", "وزارة الداخلية التشيكية"),
    ("DE-BMI", "DE", "Federal Ministry of the Interior of Germany", "وزارة الداخلية الاتحادية الألمانية"),
    ("IT-MI", "IT", "Ministry of the Interior of Italy", "وزارة الداخلية الإيطالية"),
    ("JO-PSD", "JO", "Public Security Directorate of Jordan", "مديرية الأمن العام الأردنية"),
    ("TR-EGM", "TR", "General Directorate of Security of Turkey", "المديرية العامة للأمن التركية"),
];

/// Given names as written in Arabic and as commonly romanised, with the usual gender.
const GIVEN: &[(&str, &str, Gender)] = &[
    ("محمد", "Mohammed", Gender::Male),
    ("أحمد", "Ahmed", Gender::Male),
    ("علي", "Ali", Gender::Male),
    ("حسين", "Hussein", Gender::Male),
    ("حسن", "Hassan", Gender::Male),
    ("عمر", "Omar", Gender::Male),
    ("خالد", "Khaled", Gender::Male),
    ("يوسف", "Youssef", Gender::Male),
    ("إبراهيم", "Ibrahim", Gender::Male),
    ("عبد الله", "Abdullah", Gender::Male),
    ("عبد الرحمن", "Abdulrahman", Gender::Male),
    ("عبد الأمير", "Abdul Amir", Gender::Male),
    ("مصطفى", "Mustafa", Gender::Male),
    ("كريم", "Karim", Gender::Male),
    ("جاسم", "Jassim", Gender::Male),
    ("حيدر", "Haider", Gender::Male),
    ("عباس", "Abbas", Gender::Male),
    ("زينب", "Zainab", Gender::Female),
    ("فاطمة", "Fatima", Gender::Female),
    ("مريم", "Maryam", Gender::Female),
    ("نور", "Noor", Gender::Female),
    ("سارة", "Sara", Gender::Female),
    ("هدى", "Huda", Gender::Female),
    ("ليلى", "Layla", Gender::Female),
];

const FAMILY: &[(&str, &str)] = &[
    ("الشمري", "al-Shammari"),
    ("الجبوري", "al-Jubouri"),
    ("الدليمي", "al-Dulaimi"),
    ("التميمي", "al-Tamimi"),
    ("العبيدي", "al-Obaidi"),
    ("الزبيدي", "al-Zubaidi"),
    ("الربيعي", "al-Rubaie"),
    ("الخفاجي", "al-Khafaji"),
    ("الساعدي", "al-Saadi"),
    ("الموسوي", "al-Moussawi"),
    ("الكعبي", "al-Kaabi"),
    ("البياتي", "al-Bayati"),
    ("العزاوي", "al-Azzawi"),
    ("الطائي", "al-Taie"),
];

/// Latin-script names of European partners' own subjects.
const EUROPEAN: &[(&str, &str, Gender)] = &[
    ("Jan", "Novák", Gender::Male),
    ("Petr", "Dvořák", Gender::Male),
    ("Tereza", "Svobodová", Gender::Female),
    ("Lucas", "Martin", Gender::Male),
    ("Camille", "Lefebvre", Gender::Female),
    ("Thomas", "Müller", Gender::Male),
    ("Giulia", "Russo", Gender::Female),
    ("James", "Walker", Gender::Male),
    ("Emre", "Yılmaz", Gender::Male),
    ("Ayşe", "Demir", Gender::Female),
];

const PERSON_CATEGORIES: &[Category] = &[
    Category::SuspectedSmuggler,
    Category::SuspectedSmuggler,
    Category::SuspectedTrafficker,
    Category::TraffickingRisk,
    Category::MissingPerson,
    Category::WantedForArrest,
    Category::RefusalOfEntry,
    Category::DiscreetCheck,
    Category::InquiryCheck,
];

/// What the demo made.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub agencies: usize,
    pub agreements: usize,
    pub alerts: usize,
    /// Border checks of the demo's history (the last [`HISTORY_DAYS`] days).
    pub checks: usize,
}

/// How many days of border checks the demo records before today, so that dashboards and the
/// audit log have something to show.
pub const HISTORY_DAYS: i64 = 30;

/// The demo's clock: set by hand, only ever forward, so that the history it writes is in time
/// order like any real log.
struct DemoClock(Mutex<time::OffsetDateTime>);

impl DemoClock {
    fn advance_to(&self, at: time::OffsetDateTime) {
        let mut now = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = (*now).max(at);
    }
}

impl Clock for DemoClock {
    fn now(&self) -> time::OffsetDateTime {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The password of every demo user: a demo node is for trying tabadul out, never for real data.
pub const DEMO_PASSWORD: &str = "tabadul-demo-2026";

/// A demo user: its name and roles.
#[derive(Debug, Clone, Serialize)]
pub struct DemoUser {
    pub name: String,
    pub agency: AgencyCode,
    pub roles: Vec<tabadul_domain::Role>,
}

/// Adds demo users, all with [`DEMO_PASSWORD`]: for each agency an officer, an analyst, a
/// supervisor and an auditor (`officer@iq-moi`...), and one administrator (`admin@iq-moi`).
pub fn seed_users(node: &Node, user: &str) -> Result<Vec<DemoUser>> {
    use tabadul_domain::{Role, User};
    let operator = Actor::new(user, None);
    let mut made = Vec::new();
    let mut add = |name: String, agency: AgencyCode, roles: Vec<Role>| -> Result<()> {
        let user = User {
            name: name.clone(),
            agency: agency.clone(),
            roles: roles.clone(),
            full_name: String::new(),
            disabled: false,
        };
        node.add_user(&operator, user, DEMO_PASSWORD)?;
        made.push(DemoUser { name, agency, roles });
        Ok(())
    };
    for (agency, ..) in AGENCIES {
        for role in [Role::Officer, Role::Analyst, Role::Supervisor, Role::Auditor] {
            add(format!("{}@{}", role.as_str(), agency.to_ascii_lowercase()), code(agency), vec![role])?;
        }
    }
    add("admin@iq-moi".into(), code("IQ-MOI"), vec![Role::Administrator, Role::Auditor])?;
    Ok(made)
}

/// A small deterministic generator (SplitMix64), so that demo and benchmark data need no
/// randomness source and come out the same for the same seed.
#[derive(Debug, Clone)]
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(seed)
    }

    pub fn roll(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number from 0 to n - 1.
    pub fn below(&mut self, n: usize) -> usize {
        (self.roll() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.roll() % 100 < percent
    }

    /// A number in [0, 1].
    pub fn unit(&mut self) -> f64 {
        self.roll() as f64 / u64::MAX as f64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn code(text: &str) -> AgencyCode {
    AgencyCode::new(text).expect("demo agency codes are valid")
}

/// Fills `node` (expected empty) with the demo.
///
/// Everything is written as if it happened over the last [`HISTORY_DAYS`] days: the partners,
/// agreements and alerts a month ago, then day after day the checks of Iraqi, Czech and British
/// officers at their posts, some hits confirmed and some found false. Run it on an empty store,
/// before `node` serves checks.
pub fn seed(node: &Node, user: &str, alerts_per_agency: usize) -> Result<DemoSummary> {
    let end = node.now() - time::Duration::minutes(1);
    let clock = Arc::new(DemoClock(Mutex::new(end - time::Duration::days(HISTORY_DAYS))));
    let past = Node::new(node.store.clone(), clock.clone());
    let node = &past;
    let admin = Actor::new(user, None);
    for (agency, country, name, name_ar) in AGENCIES {
        let country = CountryCode::new(country).expect("demo country codes are valid");
        node.add_agency(&admin, Agency::new(code(agency), country, *name, Some(name_ar.to_string()))?)?;
    }
    let all: Vec<AgencyCode> = AGENCIES.iter().map(|a| code(a.0)).collect();
    let trafficking = [
        Category::SuspectedSmuggler,
        Category::SuspectedTrafficker,
        Category::TraffickingRisk,
        Category::MissingPerson,
    ];
    let agreements = [
        AgreementDraft {
            title: "London summit on border security: trafficking and smuggling".into(),
            parties: all,
            levels: trafficking.iter().map(|c| (*c, SharingLevel::Hit)).collect(),
            valid_from: None,
            valid_until: None,
            legal_reference: "Joint communiqué of the London border-security summit".into(),
        },
        AgreementDraft {
            title: "Iraq-Czech memorandum on organised crime and migration".into(),
            parties: vec![code("IQ-MOI"), code("CZ-MV")],
            levels: trafficking
                .iter()
                .chain(&[
                    Category::WantedForArrest,
                    Category::RefusalOfEntry,
                    Category::StolenDocument,
                    Category::StolenVehicle,
                ])
                .map(|c| (*c, SharingLevel::Full))
                .collect(),
            valid_from: None,
            valid_until: None,
            legal_reference:
                "Memorandum of understanding between the Ministries of the Interior of Iraq and the Czech Republic"
                    .into(),
        },
        AgreementDraft {
            title: "Iraq-UK-France cooperation on organised immigration crime".into(),
            parties: vec![code("IQ-MOI"), code("GB-HO"), code("FR-MI")],
            levels: [Category::SuspectedSmuggler, Category::SuspectedTrafficker, Category::StolenDocument]
                .iter()
                .map(|c| (*c, SharingLevel::Full))
                .collect(),
            valid_from: None,
            valid_until: None,
            legal_reference: "Trilateral memorandum of understanding, Iraq, United Kingdom, France".into(),
        },
    ];
    let agreement_count = agreements.len();
    for draft in agreements {
        node.add_agreement(&admin, draft)?;
    }
    let iraq = Actor::new(user, Some(code("IQ-MOI")));
    let mut alerts = node.create_alerts(&iraq, showcase())?.len();
    let mut dice = Dice::new(0x7461_6261_6475_6c00);
    for (agency, country, _, _) in AGENCIES {
        let actor = Actor::new(user, Some(code(agency)));
        let drafts: Vec<AlertDraft> = (0..alerts_per_agency).map(|_| demo_alert(&mut dice, country)).collect();
        alerts += node.create_alerts(&actor, drafts)?.len();
    }
    let checks = seed_history(node, &clock, end)?;
    Ok(DemoSummary { agencies: AGENCIES.len(), agreements: agreement_count, alerts, checks })
}

/// Travellers of the history that no alert is about.
const PASSERS_BY_GIVEN: &[&str] =
    &["Jan", "Petra", "John", "Emma", "Louis", "Camille", "Mehmet", "Ayşe", "Luca", "Giulia", "Lukas", "Hannah"];
const PASSERS_BY_FAMILY: &[&str] =
    &["Novák", "Dvořák", "Smith", "Taylor", "Dubois", "Lefebvre", "Yılmaz", "Demir", "Rossi", "Bianchi", "Weber"];

fn passer_by(dice: &mut Dice) -> Person {
    let name = format!("{} {}", dice.pick(PASSERS_BY_GIVEN), dice.pick(PASSERS_BY_FAMILY));
    let year = 1950 + dice.below(55) as i32;
    let birth = format!("{year}-{:02}-{:02}", 1 + dice.below(12), 1 + dice.below(28));
    Person {
        names: vec![PersonName::new(&name, NameKind::Primary)],
        birth_dates: PartialDate::parse(&birth).into_iter().collect(),
        nationalities: CountryCode::new(dice.pick(AGENCIES).1).into_iter().collect(),
        ..Person::default()
    }
}

/// Border posts of the agencies whose officers check in the demo's history.
const POSTS: &[(&str, &[&str])] = &[
    ("IQ-MOI", &["BGW-AIRPORT", "EBL-AIRPORT", "ZAKHO-IBRAHIM-KHALIL"]),
    ("CZ-MV", &["PRG-AIRPORT", "BRQ-AIRPORT"]),
    ("GB-HO", &["LHR-T5", "DOVER-EASTERN-DOCKS"]),
];

/// A month of checks, in time order: each day a few travellers at each post, some of them
/// people of the alerts (as written elsewhere: the checks go through the matcher), most of
/// them not; about half the hits get an outcome.
fn seed_history(node: &Node, clock: &DemoClock, end: time::OffsetDateTime) -> Result<usize> {
    let key = NodeKey::generate()?;
    let known: Vec<Person> = node
        .store
        .alerts(&AlertFilter { limit: 2000, ..AlertFilter::default() })?
        .into_iter()
        .filter_map(|stored| match stored.alert.subject {
            Subject::Person(person) if !person.birth_dates.is_empty() => Some(person),
            _ => None,
        })
        .collect();
    let mut dice = Dice::new(0x6869_7374_6f72_7900);
    let first_day = (end - time::Duration::days(HISTORY_DAYS - 1)).date();
    let mut checks = 0;
    for day in 0..HISTORY_DAYS {
        let date = first_day + time::Duration::days(day);
        let mut events = Vec::new();
        for (agency, posts) in POSTS {
            for _ in 0..(1 + dice.below(4)) {
                let minute = 6 * 60 + dice.below(16 * 60) as i64;
                let at = date.midnight().assume_utc() + time::Duration::minutes(minute);
                let person =
                    if dice.chance(25) && !known.is_empty() { dice.pick(&known).clone() } else { passer_by(&mut dice) };
                events.push((at, *agency, *dice.pick(posts), person));
            }
        }
        events.sort_by_key(|event| event.0);
        for (at, agency, post, person) in events {
            if at >= end {
                break;
            }
            clock.advance_to(at);
            let officer = Actor::new(format!("officer@{}", agency.to_lowercase()), Some(code(agency)));
            let request = CheckRequest {
                post: post.to_string(),
                names: person.names.iter().take(1).map(|n| n.full.clone()).collect(),
                birth_dates: person.birth_dates.clone(),
                nationalities: person.nationalities.clone(),
                ..CheckRequest::default()
            };
            let outcome = node.check(&officer, &key, &request)?;
            checks += 1;
            for hit in &outcome.check.result.persons {
                if !dice.chance(50) {
                    continue;
                }
                let (kind, done) = if hit.score.unwrap_or(0.0) >= 0.9 && dice.chance(70) {
                    (OutcomeKind::Confirmed, "held for questioning; owner informed")
                } else {
                    (OutcomeKind::FalsePositive, "")
                };
                node.record_hit_outcome(&officer, hit.hit_id, kind, done, "")?;
            }
        }
    }
    Ok(checks)
}

/// Three alerts of Iraq's that the README's examples meet: a man wanted for arrest, written in
/// Arabic script only (a Czech officer finds him from his passport's MRZ, across scripts); the
/// same passport's number reported stolen; a girl at risk of trafficking (shared at hit level
/// with every partner: protection, never arrest).
fn showcase() -> Vec<AlertDraft> {
    let person = |name: &str, born: &str, gender: Gender, markers: Vec<WarningMarker>| {
        Subject::Person(Person {
            names: vec![PersonName::new(name, NameKind::Primary)],
            birth_dates: vec![PartialDate::parse(born).expect("valid demo date")],
            nationalities: vec![CountryCode::new("IQ").expect("valid")],
            gender: Some(gender),
            markers,
            ..Person::default()
        })
    };
    let draft = |category: Category, subject: Subject, remarks: &str, refer_to: Option<&str>| AlertDraft {
        category,
        subject,
        action: None,
        handling: HandlingCode::H1,
        review_date: None,
        expires: None,
        remarks: remarks.into(),
        source_id: None,
        refer_to: refer_to.map(str::to_string),
    };
    vec![
        draft(
            Category::WantedForArrest,
            person("علي حسن الشمري", "1988-03-15", Gender::Male, vec![WarningMarker::Armed]),
            "Warrant of the Karkh investigative court; smuggling network between Basra and the Balkans",
            None,
        ),
        draft(
            Category::StolenDocument,
            Subject::Document(TravelDocument {
                number: "P12345671".into(),
                issuing_state: IcaoState::new("IRQ").expect("valid"),
                doc_type: DocumentType::Passport,
                status: DocumentStatus::StolenFromHolder,
            }),
            "Reported stolen by its holder in Baghdad",
            None,
        ),
        draft(
            Category::TraffickingRisk,
            person("نور عباس التميمي", "2009-03-02", Gender::Female, vec![]),
            "Family reports her taken abroad with a promise of work",
            Some("Iraqi anti-trafficking directorate, victim support duty line"),
        ),
    ]
}

fn demo_alert(dice: &mut Dice, country: &str) -> AlertDraft {
    let roll = dice.below(100);
    let (category, subject) = if roll < 6 {
        (Category::StolenDocument, Subject::Document(demo_document(dice, country)))
    } else if roll < 10 {
        (Category::StolenVehicle, Subject::Vehicle(demo_vehicle(dice, country)))
    } else {
        let category = *dice.pick(PERSON_CATEGORIES);
        (category, Subject::Person(demo_person(dice, country, category)))
    };
    AlertDraft {
        category,
        subject,
        action: None,
        handling: if dice.below(4) == 0 { HandlingCode::H1 } else { HandlingCode::H0 },
        review_date: None,
        expires: None,
        remarks: String::new(),
        source_id: None,
        refer_to: category.is_protective().then(|| dice.pick(REFERRAL_SERVICES).to_string()),
    }
}

/// Services a protected person is referred to, as partner agencies name them.
const REFERRAL_SERVICES: &[&str] = &[
    "National Referral Mechanism (duty line of the owner agency)",
    "Child protection service on duty",
    "Anti-trafficking unit, victim support desk",
];

fn demo_person(dice: &mut Dice, country: &str, category: Category) -> Person {
    let arab = matches!(country, "IQ" | "JO") || dice.below(3) > 0;
    let mut person = Person::default();
    if arab {
        let (given_ar, given_en, gender) = *dice.pick(GIVEN);
        let (father_ar, father_en, _) = *dice.pick(&GIVEN[..17]);
        let (family_ar, family_en) = *dice.pick(FAMILY);
        let arabic = PersonName::new(&format!("{given_ar} {father_ar} {family_ar}"), NameKind::Primary);
        let latin = PersonName::new(&format!("{given_en} {father_en} {family_en}"), NameKind::Primary);
        person.names = if country == "IQ" || country == "JO" { vec![arabic, latin] } else { vec![latin, arabic] };
        person.gender = Some(gender);
        let nationality = *dice.pick(&["IQ", "IQ", "IQ", "SY", "JO"]);
        person.nationalities = vec![CountryCode::new(nationality).expect("valid")];
    } else {
        let (given, family, gender) = *dice.pick(EUROPEAN);
        person.names = vec![PersonName::new(&format!("{given} {family}"), NameKind::Primary)];
        person.gender = Some(gender);
        person.nationalities = vec![CountryCode::new(country).expect("valid")];
    }
    let year = 1950 + dice.below(55) as i16;
    let date = match dice.below(5) {
        0 => PartialDate::year(year),
        1 => PartialDate::new(year, Some(1 + dice.below(12) as u8), None),
        _ => PartialDate::new(year, Some(1 + dice.below(12) as u8), Some(1 + dice.below(28) as u8)),
    };
    person.birth_dates = date.into_iter().collect();
    if dice.below(2) == 0 {
        let state = person.nationalities[0].alpha3();
        let number = format!("{}{:07}", (b'A' + dice.below(26) as u8) as char, dice.below(10_000_000));
        person.documents =
            vec![IdentityDocument { number, issuing_state: state, doc_type: Some(DocumentType::Passport) }];
    }
    if matches!(category, Category::WantedForArrest | Category::SuspectedTrafficker) && dice.below(4) == 0 {
        person.markers = vec![*dice.pick(&[WarningMarker::Armed, WarningMarker::Violent, WarningMarker::Escaped])];
    }
    person
}

fn demo_document(dice: &mut Dice, country: &str) -> TravelDocument {
    let state = CountryCode::new(country)
        .ok()
        .and_then(|c| c.alpha3())
        .unwrap_or_else(|| IcaoState::new("XXA").expect("valid"));
    TravelDocument {
        number: format!("{}{:08}", (b'A' + dice.below(26) as u8) as char, dice.below(100_000_000)),
        issuing_state: state,
        doc_type: *dice.pick(&[DocumentType::Passport, DocumentType::Passport, DocumentType::IdCard]),
        status: *dice.pick(DocumentStatus::ALL),
    }
}

fn demo_vehicle(dice: &mut Dice, country: &str) -> Vehicle {
    const VIN_CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
    let vin: String = (0..17).map(|_| *dice.pick(VIN_CHARS) as char).collect();
    let (make, model) = *dice.pick(&[
        ("Toyota", "Land Cruiser"),
        ("Ford", "Transit"),
        ("Mercedes-Benz", "Sprinter"),
        ("Kia", "Sportage"),
    ]);
    Vehicle {
        vin: Some(vin),
        plate: Some(format!("{}{:05}", country, dice.below(100_000))),
        plate_country: CountryCode::new(country).ok(),
        make: Some(make.into()),
        model: Some(model.into()),
        colour: Some((*dice.pick(&["white", "black", "silver", "grey"])).into()),
    }
}
