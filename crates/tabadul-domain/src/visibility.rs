//! The visibility rule: what a viewing agency may see of an alert on a date.
//!
//! One pure function decides it, and everything that reads alerts for somebody (show, list,
//! checks, replication) asks it. The rule:
//! - the owner always sees its alert in full;
//! - anybody else sees nothing of an alert that has expired;
//! - otherwise the most generous level among the agreements active on that date that include
//!   both the owner and the viewer and cover the alert's category;
//! - no such agreement: hidden.

use std::collections::HashMap;

use crate::{AgencyCode, Agreement, Alert, Category, SharingLevel};

/// What a viewer sees of an alert. Ordered: `Hidden` < `HitOnly` < `Full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Visibility {
    Hidden,
    HitOnly,
    Full,
}

impl From<SharingLevel> for Visibility {
    fn from(level: SharingLevel) -> Self {
        match level {
            SharingLevel::Hit => Visibility::HitOnly,
            SharingLevel::Full => Visibility::Full,
        }
    }
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Hidden => "hidden",
            Visibility::HitOnly => "hit",
            Visibility::Full => "full",
        }
    }
}

/// The facts about an alert that visibility depends on.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub owner: &'a AgencyCode,
    pub category: Category,
    pub expires: Option<time::Date>,
}

impl Alert {
    pub fn scope(&self) -> Scope<'_> {
        Scope { owner: &self.owner, category: self.category, expires: self.expires }
    }
}

/// The visibility rule (see the module documentation).
pub fn visibility(alert: Scope<'_>, viewer: &AgencyCode, date: time::Date, agreements: &[Agreement]) -> Visibility {
    if alert.owner == viewer {
        return Visibility::Full;
    }
    if alert.expires.is_some_and(|expires| date > expires) {
        return Visibility::Hidden;
    }
    agreements
        .iter()
        .filter_map(|agreement| agreement.level_for(alert.owner, alert.category, viewer, date))
        .max()
        .map_or(Visibility::Hidden, Visibility::from)
}

/// The visibility rule precomputed for one viewer on one date, for reading many alerts:
/// a lookup per alert instead of a pass over every agreement. Always agrees with [`visibility`].
#[derive(Debug, Clone)]
pub struct SharingTable {
    viewer: AgencyCode,
    date: time::Date,
    /// By owner, then category: looked up with the alert's owner as it is (a key of an owner
    /// and a category would be a copy of the owner's code for every alert read).
    levels: HashMap<AgencyCode, HashMap<Category, SharingLevel>>,
}

impl SharingTable {
    pub fn new(viewer: &AgencyCode, date: time::Date, agreements: &[Agreement]) -> Self {
        let mut levels: HashMap<AgencyCode, HashMap<Category, SharingLevel>> = HashMap::new();
        let active = agreements.iter().filter(|a| a.is_active_on(date) && a.parties.contains(viewer));
        for agreement in active {
            for owner in agreement.parties.iter().filter(|owner| *owner != viewer) {
                for (category, level) in &agreement.levels {
                    let entry = levels.entry(owner.clone()).or_default().entry(*category).or_insert(*level);
                    *entry = (*entry).max(*level);
                }
            }
        }
        SharingTable { viewer: viewer.clone(), date, levels }
    }

    pub fn viewer(&self) -> &AgencyCode {
        &self.viewer
    }

    pub fn visibility(&self, alert: Scope<'_>) -> Visibility {
        if alert.owner == &self.viewer {
            return Visibility::Full;
        }
        if alert.expires.is_some_and(|expires| self.date > expires) {
            return Visibility::Hidden;
        }
        self.levels
            .get(alert.owner)
            .and_then(|levels| levels.get(&alert.category))
            .map_or(Visibility::Hidden, |level| Visibility::from(*level))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;
    use crate::AgreementId;

    const AGENCIES: [&str; 4] = ["IQ-MOI", "GB-HO", "FR-MI", "CZ-MV"];

    fn agency(i: usize) -> AgencyCode {
        AgencyCode::new(AGENCIES[i % AGENCIES.len()]).unwrap()
    }

    fn day(n: i64) -> time::Date {
        time::macros::date!(2026 - 01 - 01) + time::Duration::days(n)
    }

    prop_compose! {
        fn an_agreement()(
            parties in proptest::collection::btree_set(0usize..4, 0..=4),
            levels in proptest::collection::btree_map(0usize..Category::ALL.len(), any::<bool>(), 0..5),
            from in 0i64..40,
            length in proptest::option::of(0i64..40),
            revoked in proptest::option::of(0i64..60),
            awaited in proptest::option::of(0usize..4),
        ) -> Agreement {
            Agreement {
                id: AgreementId(1),
                title: "t".into(),
                parties: parties.iter().copied().map(agency).collect::<BTreeSet<_>>(),
                levels: levels
                    .into_iter()
                    .map(|(c, full)| (Category::ALL[c], if full { SharingLevel::Full } else { SharingLevel::Hit }))
                    .collect::<BTreeMap<_, _>>(),
                valid_from: day(from),
                valid_until: length.map(|l| day(from + l)),
                legal_reference: "MoU".into(),
                revoked_on: revoked.map(day),
                // Now and then a party has not consented yet (if it is a party at all).
                awaiting: awaited.filter(|a| parties.contains(a)).map(agency).into_iter().collect(),
            }
        }
    }

    prop_compose! {
        fn a_case()(
            owner in 0usize..4,
            viewer in 0usize..4,
            category in 0usize..Category::ALL.len(),
            expires in proptest::option::of(0i64..60),
            date in 0i64..60,
            agreements in proptest::collection::vec(an_agreement(), 0..5),
        ) -> (AgencyCode, AgencyCode, Category, Option<time::Date>, time::Date, Vec<Agreement>) {
            (agency(owner), agency(viewer), Category::ALL[category], expires.map(day), day(date), agreements)
        }
    }

    proptest! {
        #[test]
        fn the_owner_always_sees_everything((owner, _, category, expires, date, agreements) in a_case()) {
            let scope = Scope { owner: &owner, category, expires };
            prop_assert_eq!(visibility(scope, &owner, date, &agreements), Visibility::Full);
        }

        #[test]
        fn nothing_leaks_without_an_agreement((owner, viewer, category, expires, date, _) in a_case()) {
            prop_assume!(owner != viewer);
            let scope = Scope { owner: &owner, category, expires };
            prop_assert_eq!(visibility(scope, &viewer, date, &[]), Visibility::Hidden);
        }

        #[test]
        fn only_a_matching_active_agreement_reveals((owner, viewer, category, expires, date, agreements) in a_case()) {
            prop_assume!(owner != viewer);
            let scope = Scope { owner: &owner, category, expires };
            let seen = visibility(scope, &viewer, date, &agreements);
            let expired = expires.is_some_and(|e| date > e);
            let justified = agreements.iter().any(|a| {
                a.is_active_on(date)
                    && a.parties.contains(&owner)
                    && a.parties.contains(&viewer)
                    && a.levels.get(&category).is_some_and(|level| Visibility::from(*level) >= seen)
            });
            if seen != Visibility::Hidden {
                prop_assert!(justified && !expired);
            }
        }

        #[test]
        fn revoked_or_lapsed_agreements_hide((owner, viewer, category, _, date, agreements) in a_case()) {
            prop_assume!(owner != viewer);
            let lapsed: Vec<Agreement> = agreements
                .into_iter()
                .map(|mut a| {
                    if a.valid_until.is_some_and(|until| until < date) {
                        return a;
                    }
                    a.revoked_on = Some(a.valid_from.min(date));
                    a
                })
                .collect();
            let scope = Scope { owner: &owner, category, expires: None };
            prop_assert_eq!(visibility(scope, &viewer, date, &lapsed), Visibility::Hidden);
        }

        #[test]
        fn the_most_generous_agreement_wins((owner, viewer, category, expires, date, agreements) in a_case()) {
            let scope = Scope { owner: &owner, category, expires };
            let together = visibility(scope, &viewer, date, &agreements);
            let best_alone = agreements
                .iter()
                .map(|a| visibility(scope, &viewer, date, std::slice::from_ref(a)))
                .max()
                .unwrap_or(if owner == viewer { Visibility::Full } else { Visibility::Hidden });
            prop_assert_eq!(together, best_alone);
        }

        #[test]
        fn the_sharing_table_agrees_with_the_rule((owner, viewer, category, expires, date, agreements) in a_case()) {
            let scope = Scope { owner: &owner, category, expires };
            let table = SharingTable::new(&viewer, date, &agreements);
            prop_assert_eq!(table.visibility(scope), visibility(scope, &viewer, date, &agreements));
        }
    }

    #[test]
    fn the_summit_examples() {
        let iq = agency(0);
        let cz = agency(3);
        let gb = agency(1);
        let bilateral = Agreement {
            id: AgreementId(1),
            title: "Iraq-Czech MoU".into(),
            parties: [iq.clone(), cz.clone()].into(),
            levels: [(Category::SuspectedSmuggler, SharingLevel::Full)].into(),
            valid_from: day(0),
            valid_until: None,
            legal_reference: "MoU 2026/1".into(),
            revoked_on: None,
            awaiting: Default::default(),
        };
        let multilateral = Agreement {
            id: AgreementId(2),
            title: "Summit".into(),
            parties: [iq.clone(), cz.clone(), gb.clone()].into(),
            levels: [(Category::SuspectedSmuggler, SharingLevel::Hit)].into(),
            ..bilateral.clone()
        };
        let agreements = [bilateral, multilateral];
        let smuggler = Scope { owner: &iq, category: Category::SuspectedSmuggler, expires: None };
        assert_eq!(visibility(smuggler, &cz, day(5), &agreements), Visibility::Full);
        assert_eq!(visibility(smuggler, &gb, day(5), &agreements), Visibility::HitOnly);
        let wanted = Scope { category: Category::WantedForArrest, ..smuggler };
        assert_eq!(visibility(wanted, &cz, day(5), &agreements), Visibility::Hidden);
        let expired = Scope { expires: Some(day(3)), ..smuggler };
        assert_eq!(visibility(expired, &cz, day(5), &agreements), Visibility::Hidden);
        assert_eq!(visibility(expired, &iq, day(5), &agreements), Visibility::Full);
        // A proposal still awaiting the Czech consent shares nothing, with anybody.
        let proposed = [Agreement { awaiting: [cz.clone()].into(), ..agreements[0].clone() }];
        assert_eq!(visibility(smuggler, &cz, day(5), &proposed), Visibility::Hidden);
        assert_eq!(visibility(smuggler, &gb, day(5), &proposed), Visibility::Hidden);
    }
}
