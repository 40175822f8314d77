//! A synthetic but realistic population of persons for benchmarks: Arabic names written in
//! Arabic script and romanised the ways passports and lists romanise them, frequent given
//! names frequent (a Zipf law), families whose members share the father's and family names.
//! Deterministic for a seed. Every name is made up; any likeness to a real person is chance.

use std::io::Write;

use tabadul_node::demo::Dice;

/// Given names: Arabic, romanisations (the first the most usual), gender.
const GIVEN: &[(&str, &[&str], char)] = &[
    ("محمد", &["Mohammed", "Muhammad", "Mohamed", "Mohammad", "MOHAMED"], 'm'),
    ("أحمد", &["Ahmed", "Ahmad"], 'm'),
    ("علي", &["Ali", "Aly"], 'm'),
    ("حسين", &["Hussein", "Husain", "Hussain", "Husayn"], 'm'),
    ("حسن", &["Hassan", "Hasan"], 'm'),
    ("عبد الله", &["Abdullah", "Abdallah", "Abd Allah", "Abdulla"], 'm'),
    ("عمر", &["Omar", "Umar"], 'm'),
    ("خالد", &["Khalid", "Khaled"], 'm'),
    ("إبراهيم", &["Ibrahim", "Ebrahim"], 'm'),
    ("يوسف", &["Youssef", "Yusuf", "Yousef"], 'm'),
    ("مصطفى", &["Mustafa", "Mostafa", "Moustafa"], 'm'),
    ("محمود", &["Mahmoud", "Mahmud"], 'm'),
    ("عبد الرحمن", &["Abdulrahman", "Abd al-Rahman", "Abdelrahman"], 'm'),
    ("سعيد", &["Said", "Saeed"], 'm'),
    ("صالح", &["Saleh", "Salih"], 'm'),
    ("جاسم", &["Jassim", "Jasim"], 'm'),
    ("حيدر", &["Haidar", "Haider", "Hayder"], 'm'),
    ("عباس", &["Abbas"], 'm'),
    ("كريم", &["Karim", "Kareem"], 'm'),
    ("فيصل", &["Faisal", "Faysal"], 'm'),
    ("طارق", &["Tariq", "Tarek"], 'm'),
    ("ماجد", &["Majid", "Majed"], 'm'),
    ("وليد", &["Walid", "Waleed"], 'm'),
    ("سلمان", &["Salman"], 'm'),
    ("زياد", &["Ziad", "Ziyad"], 'm'),
    ("قاسم", &["Qasim", "Kasim", "Qassem"], 'm'),
    ("عبد الأمير", &["Abdul Amir", "Abdulameer"], 'm'),
    ("مهدي", &["Mahdi", "Mehdi"], 'm'),
    ("رعد", &["Raad", "Ra'ad"], 'm'),
    ("نبيل", &["Nabil", "Nabeel"], 'm'),
    ("أسامة", &["Osama", "Usama"], 'm'),
    ("هشام", &["Hisham", "Hesham"], 'm'),
    ("ياسر", &["Yasser", "Yasir"], 'm'),
    ("عادل", &["Adel", "Adil"], 'm'),
    ("منصور", &["Mansour", "Mansur"], 'm'),
    ("فاطمة", &["Fatima", "Fatma"], 'f'),
    ("زينب", &["Zainab", "Zaynab"], 'f'),
    ("مريم", &["Maryam", "Mariam"], 'f'),
    ("نور", &["Noor", "Nour"], 'f'),
    ("سارة", &["Sara", "Sarah"], 'f'),
    ("هدى", &["Huda", "Hoda"], 'f'),
    ("ليلى", &["Layla", "Leila"], 'f'),
    ("عائشة", &["Aisha", "Aysha"], 'f'),
    ("خديجة", &["Khadija"], 'f'),
    ("رنا", &["Rana"], 'f'),
    ("آمنة", &["Amna", "Amina"], 'f'),
];

/// Consonants for family-name roots: Arabic letter and its romanisations.
const CONSONANTS: &[(&str, &[&str])] = &[
    ("ب", &["b"]),
    ("ت", &["t"]),
    ("ج", &["j", "g"]),
    ("ح", &["h"]),
    ("خ", &["kh"]),
    ("د", &["d"]),
    ("ر", &["r"]),
    ("ز", &["z"]),
    ("س", &["s"]),
    ("ش", &["sh"]),
    ("ص", &["s"]),
    ("ط", &["t"]),
    ("ع", &["'", ""]),
    ("غ", &["gh"]),
    ("ف", &["f"]),
    ("ق", &["q", "k"]),
    ("ك", &["k"]),
    ("ل", &["l"]),
    ("م", &["m"]),
    ("ن", &["n"]),
    ("ه", &["h"]),
    ("و", &["w"]),
    ("ي", &["y"]),
];

const COUNTRIES: &[&str] = &["IQ", "IQ", "IQ", "IQ", "SY", "SY", "JO", "EG", "LB", "SA", "YE", "LY"];

/// An index drawn from a Zipf law.
fn zipf(dice: &mut Dice, law: &Zipf) -> usize {
    let target = dice.unit() * law.cumulative.last().copied().unwrap_or(0.0);
    law.cumulative.partition_point(|c| *c < target).min(law.cumulative.len().saturating_sub(1))
}

/// A Zipf law over 0..n: index i drawn in proportion to 1 / (i + 1).
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut total = 0.0;
        Zipf {
            cumulative: (1..=n.max(1))
                .map(|i| {
                    total += 1.0 / i as f64;
                    total
                })
                .collect(),
        }
    }
}

/// A family name: Arabic script, and its letters for romanising.
#[derive(Clone)]
struct Family {
    arabic: String,
    letters: Vec<usize>,
    pattern: u8,
}

fn family(dice: &mut Dice) -> Family {
    let letters: Vec<usize> = (0..3).map(|_| dice.below(CONSONANTS.len())).collect();
    let pattern = dice.below(4) as u8;
    let [a, b, c] = [letters[0], letters[1], letters[2]].map(|i| CONSONANTS[i].0);
    let arabic = match pattern {
        0 => format!("ال{a}{b}{c}ي"),
        1 => format!("ال{a}{b}ا{c}ي"),
        2 => format!("ال{a}ا{b}{c}"),
        _ => format!("ال{a}{b}ي{c}"),
    };
    Family { arabic, letters, pattern }
}

/// One romanisation of a family name: consonant spellings chosen, article written one of the
/// usual ways (or not at all, as passports often drop it).
fn romanise(family: &Family, dice: &mut Dice) -> String {
    let consonant = |i: usize, dice: &mut Dice| {
        let options = CONSONANTS[family.letters[i]].1;
        options[dice.below(options.len())].to_string()
    };
    let (a, b, c) = (consonant(0, dice), consonant(1, dice), consonant(2, dice));
    let vowel = |dice: &mut Dice| ["a", "a", "u", "e", "i", "o"][dice.below(6)];
    let (v1, v2) = (vowel(dice), vowel(dice));
    let body = match family.pattern {
        0 => format!("{a}{v1}{b}{c}i"),
        1 => format!("{a}{v1}{b}a{c}i"),
        2 => format!("{a}a{b}{v2}{c}"),
        _ => format!("{a}{v1}{b}i{c}"),
    };
    let body = capitalise(&body);
    match dice.below(5) {
        0 => format!("al-{body}"),
        1 => format!("Al-{body}"),
        2 => format!("el-{body}"),
        3 => format!("Al{}", body.to_lowercase()),
        _ => body,
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One generated person.
pub struct Person {
    /// The entity id, once written.
    pub id: Option<String>,
    pub arabic: Option<String>,
    pub latin: Vec<String>,
    pub birth_date: Option<String>,
    pub nationality: String,
    pub gender: char,
    given: usize,
    father: usize,
    family: Family,
}

/// Writes `count` persons as FollowTheMoney `Person` entities, and, if asked, `queries`
/// checks: half of them another spelling of a generated person (with their birth date), half
/// somebody who is not in the population.
pub fn write(
    count: usize,
    seed: u64,
    alerts: &mut dyn Write,
    queries: Option<(&mut dyn Write, usize)>,
) -> std::io::Result<()> {
    let mut dice = Dice::new(seed);
    // The checks draw from their own dice, so that asking for checks does not change the
    // population.
    let mut query_dice = Dice::new(seed ^ 0x5155_4552_5945_5321);
    let families: Vec<Family> = (0..(count / 20).max(50)).map(|_| family(&mut dice)).collect();
    let family_law = Zipf::new(families.len());
    let father_law = Zipf::new(35);
    let given_law = Zipf::new(GIVEN.len());
    let mut sample: Vec<Person> = Vec::new();
    let wanted = queries.as_ref().map_or(0, |(_, n)| *n);
    let mut generated = 0;
    while generated < count {
        // A household: a father's name and a family name shared by one to four members.
        let family = families[zipf(&mut dice, &family_law)].clone();
        let father = zipf(&mut dice, &father_law);
        let year = 1950 + dice.below(55) as i32;
        for _ in 0..(1 + dice.below(4)).min(count - generated) {
            let mut person = person(&mut dice, &given_law, &family, father, year);
            write_entity(alerts, generated, &person)?;
            person.id = Some(format!("gen-{generated}"));
            if sample.len() < wanted / 2 && query_dice.chance(50) {
                sample.push(person);
            }
            generated += 1;
        }
    }
    if let Some((out, n)) = queries {
        for i in 0..n {
            let line = if i % 2 == 0 && !sample.is_empty() {
                let person = &sample[(i / 2) % sample.len()];
                query_of(person, &mut query_dice)
            } else {
                let family = family(&mut query_dice);
                let father = query_dice.below(GIVEN.len());
                let stranger = self::person(&mut query_dice, &given_law, &family, father, 1960);
                query_of(&stranger, &mut query_dice)
            };
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

fn person(dice: &mut Dice, given_law: &Zipf, family: &Family, father: usize, family_year: i32) -> Person {
    let mut given = zipf(dice, given_law);
    if given == father {
        given = (given + 1) % GIVEN.len();
    }
    let (given_ar, given_latin, gender) = GIVEN[given];
    let father_ar = GIVEN[father].0;
    let arabic = format!("{given_ar} {father_ar} {}", family.arabic);
    let latin_name = |dice: &mut Dice| {
        let given = given_latin[dice.below(given_latin.len())];
        let father = GIVEN[father].1[dice.below(GIVEN[father].1.len())];
        let family = romanise(family, dice);
        if dice.chance(30) { format!("{given} {family}") } else { format!("{given} {father} {family}") }
    };
    let latin: Vec<String> = (0..dice.below(3)).map(|_| latin_name(dice)).collect();
    let year = family_year + dice.below(30) as i32 - 15;
    let birth_date = match dice.below(10) {
        0 => None,
        1..=3 => Some(format!("{year}")),
        _ => Some(format!("{year}-{:02}-{:02}", 1 + dice.below(12), 1 + dice.below(28))),
    };
    let nationality = COUNTRIES[dice.below(COUNTRIES.len())].to_lowercase();
    let arabic = (latin.is_empty() || dice.chance(70)).then_some(arabic);
    let latin = if arabic.is_none() && latin.is_empty() { vec![latin_name(dice)] } else { latin };
    Person { id: None, arabic, latin, birth_date, nationality, gender, given, father, family: family.clone() }
}

fn write_entity(out: &mut dyn Write, number: usize, person: &Person) -> std::io::Result<()> {
    let mut names: Vec<&String> = person.arabic.iter().collect();
    names.extend(person.latin.iter());
    let (name, aliases) = names.split_first().expect("a person has a name");
    let entity = serde_json::json!({
        "id": format!("gen-{number}"),
        "schema": "Person",
        "properties": {
            "name": [name],
            "alias": aliases,
            "birthDate": person.birth_date.iter().collect::<Vec<_>>(),
            "nationality": [person.nationality],
            "gender": [if person.gender == 'f' { "female" } else { "male" }],
        }
    });
    writeln!(out, "{entity}")
}

/// A check for a person as a border post would type or read it: the Latin name of the
/// passport (upper case, article dropped, as MRZ data carries it) or the Arabic name; with the
/// entity it was made from (`expected`), for measuring what the index finds.
fn query_of(person: &Person, dice: &mut Dice) -> String {
    let given = GIVEN[person.given].1[0];
    let father = GIVEN[person.father].1[dice.below(GIVEN[person.father].1.len())];
    let family = romanise(&person.family, dice).replace(['-', '\''], "").to_uppercase();
    let name = match (dice.below(3), &person.arabic) {
        (0, Some(arabic)) => arabic.clone(),
        _ => format!("{} {} {}", given.to_uppercase(), father.to_uppercase(), family),
    };
    serde_json::json!({
        "name": name,
        "birth_date": person.birth_date,
        "nationality": person.nationality,
        "gender": if person.gender == 'f' { "female" } else { "male" },
        "expected": person.id,
    })
    .to_string()
}
