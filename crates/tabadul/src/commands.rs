//! The handlers of the commands: turn flags into domain values, call the node, print.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tabadul_domain::{
    Action, Agency, AgencyCode, AgreementId, Alert, AlertId, Category, CountryCode, DocumentStatus, DocumentType,
    Gender, HandlingCode, IcaoState, IdentityDocument, LinkKind, NameKind, PartialDate, Person, PersonName,
    SharingLevel, Subject, SubjectKind, TravelDocument, Vehicle, WarningMarker, parse_date,
};
use tabadul_node::{Actor, AgreementDraft, AlertDraft, AlertQuery, ImportOptions, Node, SystemClock};
use tabadul_store_sqlite::SqliteStore;

use crate::cli::{
    AgencyArg, AgencyCommand, AgreementCommand, AlertCommand, AlertFields, AuditCommand, Cli, Command, ImportArgs,
    Progress,
};
use crate::config::{Config, RawConfig};
use crate::output;
use crate::store::{Opened, StoreLocation};

pub(crate) struct Session {
    pub config: Config,
    pub user: String,
    pub json: bool,
}

impl Session {
    pub fn actor(&self, agency: &AgencyArg) -> Result<Actor> {
        let agency = match &agency.agency {
            Some(code) => Some(AgencyCode::new(code)?),
            None => self.config.default_agency.clone(),
        };
        Ok(Actor::new(self.user.clone(), agency))
    }

    fn admin(&self) -> Actor {
        Actor::new(self.user.clone(), None)
    }

    /// Opens the node on the configured store, which must exist.
    pub fn node(&self) -> Result<Node> {
        let location = &self.config.store;
        if !location.exists() {
            bail!("there is no store at {location}: run `tabadul init` first (or give --db)");
        }
        let node = node_on(&location.open()?);
        self.mark_replica(&node)?;
        Ok(node)
    }

    /// Makes `node` refuse alert changes if this node is a border post (whatever the command).
    fn mark_replica(&self, node: &Node) -> Result<()> {
        if let Some(post) = self.config.federation.as_ref().and_then(|f| f.post.as_ref()) {
            let agency = self.config.default_agency.clone().context("a border post's agency is [node] agency")?;
            node.set_replica(tabadul_node::Replica { agency, post: post.name.to_string() });
        }
        Ok(())
    }

    /// [`Session::node`] for checks: it also searches the hit keys partners shared, if the node
    /// federates (read only here: other commands need not parse them).
    pub fn checking_node(&self) -> Result<Node> {
        let node = self.node()?;
        crate::federate::attach(self, &node)?;
        Ok(node)
    }
}

fn node_on(opened: &Opened) -> Node {
    Node::new(opened.store(), Arc::new(SystemClock))
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let (raw, file) = RawConfig::load(cli.config.as_deref())?;
    let config = raw.validate(file, cli.db.clone()).context("check the configuration")?;
    let user = cli
        .user
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "operator".into());
    let cx = Session { config, user, json: cli.json };
    match cli.command {
        Command::Init => init(&cx),
        Command::CheckConfig => check_config(&cx),
        Command::Agency(command) => agency(&cx, command),
        Command::Agreement(command) => agreement(&cx, command),
        Command::Alert(command) => alert(&cx, *command),
        Command::Import(args) => import(&cx, args),
        Command::Purge => {
            let removed = cx.node()?.purge_expired(&cx.admin()).context("purge expired alerts")?;
            if cx.json {
                output::json(&serde_json::json!({ "purged": removed }))?;
            } else {
                say!("purged {removed} expired alerts");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(command) => audit(&cx, command),
        Command::Check(args) => crate::check::check(&cx, &args),
        Command::Screen(args) => crate::check::screen(&cx, &args),
        Command::Receipt(command) => crate::check::receipt(&cx, command),
        Command::Hits(command) => crate::check::hits(&cx, command),
        Command::Serve(args) => serve(&cx, &args),
        Command::User(command) => users(&cx, command),
        Command::Demo(args) => crate::commands::demo(&cx, args.alerts_per_agency),
        Command::Migrate(args) => crate::migrate::run(&cx, &args),
        Command::Federate(args) => crate::federate::run(&cx, &args),
        Command::Eval(command) => crate::eval::run(command),
        Command::Bench(args) => crate::bench::run(args),
    }
}

fn init(cx: &Session) -> Result<ExitCode> {
    let location = &cx.config.store;
    let existed = location.exists();
    let version = location.open()?.schema_version()?;
    if cx.json {
        output::json(&serde_json::json!({ "db": location, "schema_version": version, "created": !existed }))?;
    } else if existed {
        say!("{location} is ready (schema version {version})");
    } else {
        say!("created {location} (schema version {version})");
    }
    Ok(ExitCode::SUCCESS)
}

fn check_config(cx: &Session) -> Result<ExitCode> {
    let location = &cx.config.store;
    let store = match location {
        StoreLocation::File(path) if path.exists() => {
            let store =
                SqliteStore::open_existing(path).with_context(|| format!("open the store {}", path.display()))?;
            let integrity = store.integrity_check()?;
            if integrity != "ok" {
                bail!("the store {} fails SQLite's integrity check: {integrity}", path.display());
            }
            Some(serde_json::json!({ "schema_version": store.schema_version()?, "integrity": integrity }))
        }
        StoreLocation::File(_) => None,
        StoreLocation::Postgres(url) => {
            let store =
                tabadul_store_postgres::PgStore::connect(url).with_context(|| format!("connect to {location}"))?;
            Some(serde_json::json!({ "schema_version": store.schema_version()?, "server": store.server_version()? }))
        }
    };
    if cx.json {
        output::json(&serde_json::json!({ "config": cx.config, "store": store }))?;
    } else {
        match &cx.config.file {
            Some(file) => say!("configuration: {}", file.display()),
            None => say!("configuration: none (defaults)"),
        }
        say!("store:         {location}");
        match &store {
            Some(store) if store["server"].is_string() => {
                say!("               schema version {}, PostgreSQL {}", store["schema_version"], store["server"])
            }
            Some(store) => say!("               schema version {}, integrity ok", store["schema_version"]),
            None => say!("               (not created yet: `tabadul init`)"),
        }
        let agency = cx.config.default_agency.as_ref().map_or("none".to_string(), |a| a.to_string());
        say!("agency:        {agency}");
        say!("import batch:  {}", cx.config.import_batch_size);
        say!("configuration is valid");
    }
    Ok(ExitCode::SUCCESS)
}

fn agency(cx: &Session, command: AgencyCommand) -> Result<ExitCode> {
    let node = cx.node()?;
    match command {
        AgencyCommand::Add { code, country, name, name_ar } => {
            let agency = Agency::new(AgencyCode::new(&code)?, CountryCode::new(&country)?, name, name_ar)?;
            let agency = node.add_agency(&cx.admin(), agency).context("add the agency")?;
            if cx.json {
                output::json(&agency)?;
            } else {
                say!("added agency {}", agency.code);
            }
        }
        AgencyCommand::List => {
            let agencies = node.agencies(&cx.admin())?;
            if cx.json {
                output::json(&agencies)?;
            } else {
                output::agencies(&agencies);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn optional_date(text: Option<&str>) -> Result<Option<time::Date>> {
    Ok(text.map(parse_date).transpose()?)
}

fn agreement(cx: &Session, command: AgreementCommand) -> Result<ExitCode> {
    let node = cx.node()?;
    match command {
        AgreementCommand::Add { title, parties, shares, from, until, legal_ref, agency } => {
            let parties = parties.iter().map(|p| AgencyCode::new(p)).collect::<Result<Vec<_>, _>>()?;
            let levels = shares
                .iter()
                .map(|share| {
                    let (category, level) = share.split_once('=').with_context(|| {
                        format!("`{share}` is not CATEGORY=LEVEL (such as suspected-smuggler=full)")
                    })?;
                    Ok((category.parse::<Category>()?, level.parse::<SharingLevel>()?))
                })
                .collect::<Result<Vec<_>>>()?;
            let draft = AgreementDraft {
                title,
                parties,
                levels,
                valid_from: optional_date(from.as_deref())?,
                valid_until: optional_date(until.as_deref())?,
                legal_reference: legal_ref,
            };
            let agreement = node.add_agreement(&cx.actor(&agency)?, draft).context("add the agreement")?;
            if cx.json {
                output::json(&agreement)?;
            } else {
                say!("added agreement {}", agreement.id);
            }
        }
        AgreementCommand::List { agency } => {
            let agreements = node.agreements(&cx.actor(&agency)?)?;
            if cx.json {
                output::json(&agreements)?;
            } else {
                output::agreements(&agreements);
            }
        }
        AgreementCommand::Show { id, agency } => {
            let agreement = node.agreement(&cx.actor(&agency)?, AgreementId::parse(&id)?)?;
            if cx.json {
                output::json(&agreement)?;
            } else {
                output::agreement(&agreement);
            }
        }
        AgreementCommand::Consent { id, agency } => {
            let agreement = node
                .consent_to_agreement(&cx.actor(&agency)?, AgreementId::parse(&id)?)
                .context("consent to the agreement")?;
            if cx.json {
                output::json(&agreement)?;
            } else if agreement.awaiting.is_empty() {
                say!("agreement {} applies: every party has consented", agreement.id);
            } else {
                let awaiting: Vec<String> = agreement.awaiting.iter().map(|a| a.to_string()).collect();
                say!("agreement {} awaits the consent of {}", agreement.id, awaiting.join(", "));
            }
        }
        AgreementCommand::Revoke { id, on, agency } => {
            let on = optional_date(on.as_deref())?;
            let agreement = node
                .revoke_agreement(&cx.actor(&agency)?, AgreementId::parse(&id)?, on)
                .context("revoke the agreement")?;
            if cx.json {
                output::json(&agreement)?;
            } else {
                let day = agreement.revoked_on.map(tabadul_domain::format_date).unwrap_or_default();
                say!("revoked agreement {} from {day}", agreement.id);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn alert(cx: &Session, command: AlertCommand) -> Result<ExitCode> {
    let node = cx.node()?;
    match command {
        AlertCommand::Add { category, fields, agency } => {
            let category: Category = category.parse()?;
            let mut alert = Alert {
                id: AlertId(0),
                owner: AgencyCode::new("XX")?,
                category,
                subject: empty_subject(category.subject_kind()),
                action: None,
                handling: HandlingCode::H0,
                review_date: None,
                expires: None,
                remarks: String::new(),
                source_id: None,
                refer_to: None,
            };
            apply_fields(&mut alert, &fields)?;
            let draft = AlertDraft {
                category,
                subject: alert.subject,
                action: alert.action,
                handling: alert.handling,
                review_date: alert.review_date,
                expires: alert.expires,
                remarks: alert.remarks,
                source_id: None,
                refer_to: alert.refer_to,
            };
            let stored = node.create_alert(&cx.actor(&agency)?, draft).context("add the alert")?;
            if cx.json {
                output::json(&stored)?;
            } else {
                say!("added alert {}", stored.alert.id);
            }
        }
        AlertCommand::Show { id, agency } => {
            let view = node.alert(&cx.actor(&agency)?, AlertId::parse(&id)?)?;
            if cx.json {
                output::json(&view)?;
            } else {
                output::alert(&view.stored, &view.links);
            }
        }
        AlertCommand::List { owner, category, after, limit, agency } => {
            let query = AlertQuery {
                owner: owner.map(|o| AgencyCode::new(&o)).transpose()?,
                category: category.map(|c| c.parse()).transpose()?,
                after: after.map(|a| AlertId::parse(&a)).transpose()?,
                limit: Some(limit),
            };
            let alerts = node.alerts(&cx.actor(&agency)?, &query)?;
            if cx.json {
                output::json(&alerts)?;
            } else {
                output::alerts(&alerts);
            }
        }
        AlertCommand::Update { id, version, fields, agency } => {
            let stored = node
                .update_alert(&cx.actor(&agency)?, AlertId::parse(&id)?, version, |alert| {
                    apply_fields(alert, &fields).map_err(|e| tabadul_node::NodeError::Invalid(format!("{e:#}")))
                })
                .context("update the alert")?;
            if cx.json {
                output::json(&stored)?;
            } else {
                say!("updated alert {} to version {}", stored.alert.id, stored.version);
            }
        }
        AlertCommand::Delete { id, version, agency } => {
            let id = AlertId::parse(&id)?;
            node.delete_alert(&cx.actor(&agency)?, id, version).context("delete the alert")?;
            if cx.json {
                output::json(&serde_json::json!({ "deleted": id.to_string() }))?;
            } else {
                say!("deleted alert {id}");
            }
        }
        AlertCommand::Link { from, to, kind, agency } => {
            let kind: LinkKind = kind.parse()?;
            let link = node
                .link_alerts(&cx.actor(&agency)?, AlertId::parse(&from)?, AlertId::parse(&to)?, kind)
                .context("link the alerts")?;
            if cx.json {
                output::json(&link)?;
            } else {
                say!("linked {} and {} ({})", link.from, link.to, link.kind);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn empty_subject(kind: SubjectKind) -> Subject {
    match kind {
        SubjectKind::Person => Subject::Person(Person::default()),
        SubjectKind::Document => Subject::Document(TravelDocument {
            number: String::new(),
            issuing_state: IcaoState::new("XXX").expect("XXX is a valid ICAO code"),
            doc_type: DocumentType::Passport,
            status: DocumentStatus::Lost,
        }),
        SubjectKind::Vehicle => Subject::Vehicle(Vehicle::default()),
    }
}

fn parse_all<T>(values: &[String], parse: impl Fn(&str) -> Result<T>) -> Result<Vec<T>> {
    values.iter().map(|v| parse(v)).collect()
}

/// Puts the given fields into `alert`: each field given replaces the alert's; the others stay.
fn apply_fields(alert: &mut Alert, f: &AlertFields) -> Result<()> {
    if let Some(action) = &f.action {
        alert.action = Some(action.parse::<Action>()?);
    }
    match (&f.handling, &f.handling_text) {
        (Some(code), text) => alert.handling = HandlingCode::parse(code, text.as_deref())?,
        (None, Some(text)) => alert.handling = HandlingCode::parse("H3", Some(text))?,
        (None, None) => {}
    }
    if let Some(day) = &f.review {
        alert.review_date = Some(parse_date(day)?);
    }
    if let Some(day) = &f.expires {
        alert.expires = Some(parse_date(day)?);
    }
    if let Some(remarks) = &f.remarks {
        alert.remarks = remarks.clone();
    }
    if let Some(service) = &f.refer_to {
        alert.refer_to = Some(service.trim().to_string()).filter(|s| !s.is_empty());
    }
    let person_flags = !(f.names.is_empty()
        && f.aliases.is_empty()
        && f.birth_dates.is_empty()
        && f.birth_places.is_empty()
        && f.nationalities.is_empty()
        && f.gender.is_none()
        && f.documents.is_empty()
        && f.markers.is_empty());
    let document_flags =
        f.doc_number.is_some() || f.doc_state.is_some() || f.doc_type.is_some() || f.doc_status.is_some();
    let vehicle_flags = f.vin.is_some()
        || f.plate.is_some()
        || f.plate_country.is_some()
        || f.make.is_some()
        || f.model.is_some()
        || f.colour.is_some();
    let kind = alert.category.subject_kind();
    for (given, flag_kind, flags) in [
        (person_flags, SubjectKind::Person, "--name, --birth-date, --document ..."),
        (document_flags, SubjectKind::Document, "--doc-number, --doc-state ..."),
        (vehicle_flags, SubjectKind::Vehicle, "--vin, --plate ..."),
    ] {
        if given && flag_kind != kind {
            bail!("{flags} do not apply to a {} alert", alert.category);
        }
    }
    match &mut alert.subject {
        Subject::Person(person) => apply_person(person, f),
        Subject::Document(document) => apply_document(document, f),
        Subject::Vehicle(vehicle) => apply_vehicle(vehicle, f),
    }
}

fn apply_person(person: &mut Person, f: &AlertFields) -> Result<()> {
    let names = |values: &[String], kind: NameKind| values.iter().map(|n| PersonName::new(n, kind)).collect::<Vec<_>>();
    if !f.names.is_empty() {
        let aliases = person.names.iter().filter(|n| n.kind == NameKind::Alias).cloned();
        person.names = names(&f.names, NameKind::Primary).into_iter().chain(aliases).collect();
    }
    if !f.aliases.is_empty() {
        person.names.retain(|n| n.kind == NameKind::Primary);
        person.names.extend(names(&f.aliases, NameKind::Alias));
    }
    if !f.birth_dates.is_empty() {
        person.birth_dates = parse_all(&f.birth_dates, |d| Ok(PartialDate::parse(d)?))?;
    }
    if !f.birth_places.is_empty() {
        person.birth_places = f.birth_places.iter().map(|p| p.trim().to_string()).collect();
    }
    if !f.nationalities.is_empty() {
        person.nationalities = parse_all(&f.nationalities, |c| Ok(CountryCode::new(c)?))?;
    }
    if let Some(gender) = &f.gender {
        person.gender = Some(gender.parse::<Gender>()?);
    }
    if !f.documents.is_empty() {
        person.documents = parse_all(&f.documents, |text| {
            let (state, number) = match text.split_once(':') {
                Some((state, number)) => (Some(IcaoState::new(state)?), number),
                None => (None, text),
            };
            Ok(IdentityDocument { number: number.trim().to_string(), issuing_state: state, doc_type: None })
        })?;
    }
    if !f.markers.is_empty() {
        person.markers = parse_all(&f.markers, |m| Ok(m.parse::<WarningMarker>()?))?;
    }
    Ok(())
}

fn apply_document(document: &mut TravelDocument, f: &AlertFields) -> Result<()> {
    if let Some(number) = &f.doc_number {
        document.number = number.trim().to_string();
    }
    if let Some(state) = &f.doc_state {
        document.issuing_state = IcaoState::new(state)?;
    }
    if let Some(doc_type) = &f.doc_type {
        document.doc_type = doc_type.parse()?;
    }
    if let Some(status) = &f.doc_status {
        document.status = status.parse()?;
    }
    if document.number.is_empty() {
        bail!("a stolen-document alert needs --doc-number");
    }
    if document.issuing_state.as_str() == "XXX" && f.doc_state.is_none() {
        bail!("a stolen-document alert needs --doc-state (the ICAO code of the issuing state)");
    }
    Ok(())
}

fn apply_vehicle(vehicle: &mut Vehicle, f: &AlertFields) -> Result<()> {
    let text = |value: &Option<String>| value.as_ref().map(|v| v.trim().to_string());
    if f.vin.is_some() {
        vehicle.vin = text(&f.vin).map(|v| v.to_ascii_uppercase());
    }
    if f.plate.is_some() {
        vehicle.plate = text(&f.plate);
    }
    if let Some(country) = &f.plate_country {
        vehicle.plate_country = Some(CountryCode::new(country)?);
    }
    if f.make.is_some() {
        vehicle.make = text(&f.make);
    }
    if f.model.is_some() {
        vehicle.model = text(&f.model);
    }
    if f.colour.is_some() {
        vehicle.colour = text(&f.colour);
    }
    Ok(())
}

fn import(cx: &Session, args: ImportArgs) -> Result<ExitCode> {
    use std::io::IsTerminal;
    let node = cx.node()?;
    let actor = cx.actor(&args.agency)?;
    let options = ImportOptions {
        category: args.category.parse()?,
        handling: HandlingCode::parse(&args.handling, args.handling_text.as_deref())?,
        batch_size: args.batch_size.unwrap_or(cx.config.import_batch_size),
    };
    let progress = match args.progress {
        Progress::Auto if std::io::stderr().is_terminal() => Progress::Bar,
        Progress::Auto => Progress::Lines,
        other => other,
    };
    let bar = matches!(progress, Progress::Bar).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg:>24} [{bar:40}] {bytes}/{total_bytes} {eta}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        bar
    });
    let mut report = |p: tabadul_node::ImportProgress| match (&bar, progress) {
        (Some(bar), _) => {
            bar.set_length(p.bytes_total);
            bar.set_position(p.bytes_read);
            if p.pass == 1 {
                bar.set_message("collecting documents");
            } else {
                bar.set_message(format!("{} alerts written", p.committed));
            }
        }
        (None, Progress::Lines) if p.pass == 2 => {
            eprintln!("committed {} alerts through line {}", p.committed, p.committed_through_line);
        }
        _ => {}
    };
    let summary = node.import_ftm(&actor, &args.file, &options, &mut report);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = summary.with_context(|| format!("import {}", args.file.display()))?;
    if cx.json {
        output::json(&summary)?;
    } else {
        for error in &summary.errors {
            eprintln!("line {}: {}", error.line, error.message);
        }
        if summary.error_count > summary.errors.len() as u64 {
            eprintln!("... and {} more lines with errors", summary.error_count - summary.errors.len() as u64);
        }
        for warning in &summary.warnings {
            eprintln!("line {}: warning: {}", warning.line, warning.message);
        }
        say!(
            "{} lines: {} persons ({} created, {} updated, {} unchanged), {} documents attached, {} lines with errors skipped, {} warnings",
            summary.lines,
            summary.persons,
            summary.created,
            summary.updated,
            summary.unchanged,
            summary.documents,
            summary.error_count,
            summary.warning_count
        );
        for (schema, count) in &summary.skipped_schemas {
            say!("  not imported: {count} {schema}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn audit(cx: &Session, command: AuditCommand) -> Result<ExitCode> {
    let node = cx.node()?;
    match command {
        AuditCommand::Verify => {
            let report = node.verify_audit(&cx.admin()).context("verify the audit log")?;
            if cx.json {
                output::json(&report)?;
            } else if let Some(broken) = &report.broken {
                say!("{broken}");
                say!("{} entries before it verified", report.entries);
            } else {
                say!("audit log intact: {} entries, head {}", report.entries, report.head);
            }
            Ok(if report.broken.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        AuditCommand::List { after, limit } => {
            let entries = node.audit_entries(&cx.admin(), after, limit)?;
            if cx.json {
                output::json(&entries)?;
            } else {
                let rows: Vec<Vec<String>> = entries
                    .iter()
                    .map(|e| {
                        let at = tabadul_domain::format_unix_us(e.draft.at_unix_us).unwrap_or_default();
                        vec![
                            e.seq.to_string(),
                            at,
                            e.draft.user.clone(),
                            e.draft.agency.clone().unwrap_or_else(|| "-".into()),
                            e.draft.operation.clone(),
                            e.draft.result_count.to_string(),
                            e.draft.targets.len().to_string(),
                        ]
                    })
                    .collect();
                output::table(&["SEQ", "AT", "USER", "AGENCY", "OPERATION", "RESULTS", "TARGETS"], &rows);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Opens a store for the demo, which starts on a fresh file or an empty database.
fn fresh_store(location: &StoreLocation) -> Result<Opened> {
    if let StoreLocation::File(path) = location
        && path.exists()
    {
        bail!("{} exists already: the demo starts on a fresh file (give another --db, or remove it)", path.display());
    }
    let opened = location.open()?;
    if !opened.is_empty()? {
        bail!("{location} holds data already: the demo starts on an empty database");
    }
    Ok(opened)
}

fn demo(cx: &Session, alerts_per_agency: usize) -> Result<ExitCode> {
    let location = &cx.config.store;
    let node = node_on(&fresh_store(location)?);
    let summary = tabadul_node::demo::seed(&node, &cx.user, alerts_per_agency).context("fill the demo store")?;
    if cx.json {
        output::json(&summary)?;
    } else {
        say!("demo store {location} ready:");
        say!(
            "  {} agencies, {} agreements, {} alerts, {} border checks over the last {} days",
            summary.agencies,
            summary.agreements,
            summary.alerts,
            summary.checks,
            tabadul_node::demo::HISTORY_DAYS
        );
        say!("try:");
        say!("  tabadul --db {location} agreement list");
        say!("  tabadul --db {location} alert list --agency CZ-MV");
        say!("  tabadul --db {location} audit verify");
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(cx: &Session, args: &crate::cli::ServeArgs) -> Result<ExitCode> {
    let location = &cx.config.store;
    let opened = location.open()?;
    if args.demo && opened.is_empty()? {
        let node = node_on(&opened);
        let summary =
            tabadul_node::demo::seed(&node, &cx.user, args.alerts_per_agency).context("fill the demo store")?;
        let users = tabadul_node::demo::seed_users(&node, &cx.user).context("add the demo users")?;
        say!(
            "demo store {location} ready: {} agencies, {} agreements, {} alerts, {} border checks over the last {} days",
            summary.agencies,
            summary.agreements,
            summary.alerts,
            summary.checks,
            tabadul_node::demo::HISTORY_DAYS
        );
        say!("demo users (password for all: {}):", tabadul_node::demo::DEMO_PASSWORD);
        let rows: Vec<Vec<String>> = users
            .iter()
            .map(|u| {
                let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                vec![u.name.clone(), u.agency.to_string(), roles.join(", ")]
            })
            .collect();
        output::table(&["USER", "AGENCY", "ROLES"], &rows);
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tabadul_server::tls::config(cert, key).map_err(anyhow::Error::msg)?),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let node = node_on(&opened);
    cx.mark_replica(&node)?;
    if cx.config.federation.is_some() {
        crate::federate::spawn_background(cx, node.clone(), std::time::Duration::from_secs(2))?;
        say!("federating with the partners of [federation], a round every 2 s");
    }
    let key = crate::check::node_key(&cx.config.key_path)?;
    say!("serving the API on {scheme}://{} (node key {}); stop with Ctrl-C", args.listen, key.public_hex());
    say!("  curl -s -X POST {scheme}://{}/api/v1/sessions -H 'Content-Type: application/json' \\", args.listen);
    say!("       -d '{{\"user\": \"officer@cz-mv\", \"password\": \"{}\"}}'", tabadul_node::demo::DEMO_PASSWORD);
    tabadul_server::run(node, key, args.listen, tls).with_context(|| format!("serve on {}", args.listen))?;
    Ok(ExitCode::SUCCESS)
}

fn users(cx: &Session, command: crate::cli::UserCommand) -> Result<ExitCode> {
    use crate::cli::UserCommand;
    let node = cx.node()?;
    match command {
        UserCommand::Add { name, agency, roles, full_name } => {
            let roles = roles.iter().map(|r| r.parse::<tabadul_domain::Role>()).collect::<Result<Vec<_>, _>>()?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password).context("read the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']);
            let user =
                tabadul_domain::User { name, agency: AgencyCode::new(&agency)?, roles, full_name, disabled: false };
            let user = node.add_user(&cx.admin(), user, password).context("add the user")?;
            if cx.json {
                output::json(&user)?;
            } else {
                say!("added user {} of {}", user.name, user.agency);
            }
        }
        UserCommand::List { agency } => {
            let mut users = node.users(&cx.admin()).context("list users")?;
            if let Some(agency) = agency {
                let agency = AgencyCode::new(&agency)?;
                users.retain(|u| u.agency == agency);
            }
            if cx.json {
                output::json(&users)?;
            } else {
                let rows: Vec<Vec<String>> = users
                    .iter()
                    .map(|u| {
                        let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                        vec![u.name.clone(), u.agency.to_string(), roles.join(", "), u.full_name.clone()]
                    })
                    .collect();
                output::table(&["USER", "AGENCY", "ROLES", "NAME"], &rows);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
