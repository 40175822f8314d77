//! Names that must match and names that must not, by the engine's name score alone.

use tabadul_engine::{HIT_THRESHOLD_DEFAULT, PersonQuery, score};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Match,
    NoMatch,
}
use Expect::*;

fn name_score(query: &str, candidate: &str) -> f32 {
    let person = |name: &str| PersonQuery { names: vec![name.to_string()], ..PersonQuery::default() }.prepare();
    score(&person(query), &person(candidate)).score
}

fn check(query: &str, candidate: &str, expected: Expect) {
    let score = name_score(query, candidate);
    let got = if score >= HIT_THRESHOLD_DEFAULT { Match } else { NoMatch };
    assert_eq!(got, expected, "{query} / {candidate}: score {score:.3}");
}

#[test]
fn the_same_name_across_scripts() {
    check("عبد الأمير الشمري", "Abdul Amir al-Shammari", Match);
    check("عبد الأمير الشمري", "ABDULAMEER ALSHAMMARI", Match);
    check("Abdul Amir al-Shammari", "ABDULAMEER<<ALSHAMMARI", Match);
    check("صدام حسين التكريتي", "SADDAM HUSSEIN AL-TIKRITI", Match);
    check("محمد علي", "Mohamed Ali", Match);
    check("عبدالله", "Abd Allah", Match);
    check("عبد الله", "Abdullah", Match);
    check("سراج الدين حقاني", "Sirajuddin Haqqani", Match);
    check("عزت الله", "Ezatullah", Match);
    check("يوسف القرضاوي", "Youssef al-Qaradawi", Match);
    check("فاطمة الزهراء", "Fatima Al-Zahra", Match);
    check("خالد عبد الرحمن الفواز", "Khalid Al-Fawwaz", Match);
    // As the MRZ writes them: upper case, the article joined, fillers for spaces.
    check("محمد العزاوي", "MOHAMMED ALAZZAWI", Match);
    check("غازي العبيدي", "ALOBAIDI<<GHAZI", Match);
}

#[test]
fn latin_transliteration_variants() {
    check("Mohammed Hussein", "Muhammad Husayn", Match);
    check("Abd al-Rahman", "Abdulrahman", Match);
    check("Abdurrahman Wahid", "Abd ar-Rahman Wahid", Match);
    check("Mustapha Ould Salem", "Mustafa Salim", Match);
    check("Youssef Ben Ali", "Yusuf ibn Ali", Match);
    check("Rakušan", "RAKUSAN", Match);
    check("Gulbuddin Hekmatyar", "Gulabudin HEKMATYAR", Match);
    check("Khamis EL-QADDAFI", "Khamis QADHAFI", Match);
    check("Matiur Rahman", "Mati ur Rehman", Match);
}

#[test]
fn different_people_do_not_match() {
    // A shared family name, or a shared common given name, is not the same person.
    check("Hassan al-Shammari", "Hussein al-Shammari", NoMatch);
    check("أحمد الجبوري", "Ahmed al-Dulaimi", NoMatch);
    check("Jan Novák", "Petr Novák", NoMatch);
    check("Karel Dvořák", "Ahmed Jubouri", NoMatch);
    check("محمد العزاوي", "MOHAMMED ALAN", NoMatch);
}

#[test]
fn scores_are_spread_not_saturated() {
    let exact = name_score("Abdul Amir al-Shammari", "Abdul Amir al-Shammari");
    let variant = name_score("Abdul Amir al-Shammari", "Abdulameer Alshamari");
    let partial = name_score("Abdul Amir al-Shammari", "Abdul Amir");
    let other = name_score("Abdul Amir al-Shammari", "Karel Dvořák");
    assert!(exact >= variant && variant > partial && partial > other, "{exact} {variant} {partial} {other}");
    assert!(exact < 1.0 && other > 0.0);
}

#[test]
fn the_explanation_reads_like_an_officer_would_say_it() {
    let query = PersonQuery {
        names: vec!["محمد عبد الأمير الشمري".into()],
        birth_dates: vec![tabadul_domain::PartialDate::parse("1975-03-02").unwrap()],
        nationalities: vec![tabadul_domain::CountryCode::new("IQ").unwrap()],
        ..PersonQuery::default()
    };
    let alert = PersonQuery {
        names: vec!["Mohammed Abdul Amir al-Shammari".into()],
        birth_dates: vec![tabadul_domain::PartialDate::parse("1975").unwrap()],
        nationalities: vec![tabadul_domain::CountryCode::new("IQ").unwrap()],
        ..PersonQuery::default()
    };
    let result = score(&query.prepare(), &alert.prepare());
    let reasons: Vec<(&str, bool, &str)> =
        result.reasons.iter().map(|r| (r.feature, r.supports, r.text.as_str())).collect();
    assert_eq!(
        reasons,
        [
            ("name", true, "given name محمد ≈ MOHAMMED (known variant)"),
            ("name", true, "name عبد الامير ≈ ABDUL AMIR (known variant)"),
            ("name", true, "family name الشمري ≈ SHAMMARI (transliteration)"),
            ("birth-date", true, "birth date agrees as far as known (1975-03-02 / 1975)"),
            ("nationality", true, "nationality matches (IQ)"),
        ]
    );
    assert!(result.score > 0.95 && result.score < 1.0, "{}", result.score);
}

#[test]
fn dates_and_nationalities_are_said_as_lists_in_both_languages() {
    let dates = |dates: &[&str]| dates.iter().map(|d| tabadul_domain::PartialDate::parse(d).unwrap()).collect();
    let codes = |codes: &[&str]| codes.iter().map(|c| tabadul_domain::CountryCode::new(c).unwrap()).collect();
    let query = PersonQuery {
        names: vec!["ALI HASSAN ALSHAMMARI".into()],
        birth_dates: dates(&["1975-03-02", "1975-02-03"]),
        nationalities: codes(&["IQ", "SY"]),
        ..PersonQuery::default()
    };
    let alert = PersonQuery {
        names: vec!["Ali Hassan al-Shammari".into()],
        birth_dates: dates(&["1979-06", "1980"]),
        nationalities: codes(&["JO"]),
        ..PersonQuery::default()
    };
    let result = score(&query.prepare(), &alert.prepare());
    let said: Vec<(&str, &str, &str)> = result
        .reasons
        .iter()
        .filter(|r| r.feature != "name")
        .map(|r| (r.feature, r.text.as_str(), r.text_ar.as_str()))
        .collect();
    assert_eq!(
        said,
        [
            (
                "birth-date",
                "birth dates differ (1975-03-02, 1975-02-03 / 1979-06, 1980)",
                "تاريخا الميلاد مختلفان (1975-03-02, 1975-02-03 / 1979-06, 1980)"
            ),
            ("nationality", "nationality differs (IQ, SY / JO)", "الجنسية مختلفة (IQ, SY / JO)"),
        ]
    );
}

/// A person with one name, birth date and nationality.
fn person(name: &str, born: &str) -> tabadul_engine::PreparedPerson {
    PersonQuery {
        names: vec![name.into()],
        birth_dates: vec![tabadul_domain::PartialDate::parse(born).unwrap()],
        nationalities: vec![tabadul_domain::CountryCode::new("IQ").unwrap()],
        ..PersonQuery::default()
    }
    .prepare()
}

#[test]
fn a_generation_apart_is_another_person_but_a_typing_slip_is_not() {
    // A son named after his father and grandfather, checked against the father's alert.
    let son = person("ALI HASSAN ALSHAMMARI", "1988-03-15");
    let father = person("Hassan Ali al-Shammari", "1961");
    let result = score(&son, &father);
    assert!(result.score < HIT_THRESHOLD_DEFAULT, "{}", result.score);
    let said = result.reasons.iter().find(|r| r.feature == "birth-date").map(|r| r.text.as_str());
    assert_eq!(said, Some("born 27 years apart: another generation, a relative? (1988-03-15 / 1961)"));
    // The same man, his birth year typed with two digits swapped: still a hit.
    let typed = score(&person("Ali Hassan al-Shammari", "1958"), &person("ALI HASSAN ALSHAMMARI", "1985-03-15"));
    assert!(typed.score >= HIT_THRESHOLD_DEFAULT, "{}", typed.score);
    // Ten years apart is a conflict, not yet another generation.
    let close = score(&person("Ali Hassan al-Shammari", "1975"), &person("ALI HASSAN ALSHAMMARI", "1985-03-15"));
    assert!(close.score > result.score, "{} {}", close.score, result.score);
}
