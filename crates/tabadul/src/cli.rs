//! The command line's grammar (clap). Handlers live in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "tabadul",
    version,
    about = "Share alerts on organised crime, trafficking and smuggling between partner states, and check travellers against them",
    long_about = None,
)]
pub struct Cli {
    /// The store: an SQLite file, or a PostgreSQL database as postgres://user@host:port/name
    /// [default: tabadul.db, or [store] in the configuration].
    #[arg(long, global = true, env = "TABADUL_DB", value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// The configuration file [default: tabadul.toml if present].
    #[arg(long, global = true, env = "TABADUL_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Who you are, for the audit log [default: $USER].
    #[arg(long, global = true, env = "TABADUL_USER", value_name = "NAME")]
    pub user: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store file (or bring an existing one up to date).
    Init,
    /// Agencies of the partner states.
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// Agreements (memoranda of understanding) that decide who sees what.
    #[command(subcommand)]
    Agreement(AgreementCommand),
    /// Alerts on persons, travel documents and vehicles.
    #[command(subcommand)]
    Alert(Box<AlertCommand>),
    /// Import FollowTheMoney entities (JSON lines, optionally .gz) as person alerts.
    Import(ImportArgs),
    /// Remove the alerts that have expired; each removal is logged.
    Purge,
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Validate the configuration and the store without changing anything.
    CheckConfig,
    /// Check a traveller at the border: a passport's MRZ or a typed identity, against every
    /// alert your agency may see; prints the hits and a signed receipt.
    Check(Box<CheckArgs>),
    /// Screen a passenger manifest (UN/EDIFACT PAXLST): every traveller checked; prints the
    /// travellers who hit, the most severe first.
    Screen(ScreenArgs),
    /// Receipts of checks.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// After a hit: confirm or reject it; the owner's inbox of confirmed hits.
    #[command(subcommand)]
    Hits(HitsCommand),
    /// Serve the HTTP/JSON API (under /api/v1; /health and /ready without a token).
    Serve(ServeArgs),
    /// Users of the API (the first administrator of a node is made here).
    #[command(subcommand)]
    User(UserCommand),
    /// Fill a fresh store with the London summit's partners, agreements and sample alerts.
    Demo(DemoArgs),
    /// Move a node's store to another backend (say its SQLite file to PostgreSQL) with nothing
    /// lost: every record copied verbatim, then counts, sequence numbers and the audit chain
    /// verified on the copy.
    Migrate(MigrateArgs),
    /// Exchange alert changes with the partner nodes of [federation] over NATS JetStream: publish
    /// this node's, apply theirs (signed, in order, once).
    Federate(FederateArgs),
    /// Measure the matcher on labelled data.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Measure the index: build it from FollowTheMoney persons and run checks; prints one JSON
    /// object: alerts, build_seconds, index_bytes, rss_bytes, queries, p50_us, p99_us,
    /// checks_per_second, checks_per_second_all_cores.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: Option<BenchCommand>,
    /// FollowTheMoney entities (JSON lines, .gz too): the `Person`s become alerts.
    #[arg(long, value_name = "FILE", required = false)]
    pub alerts: Option<PathBuf>,
    /// Checks, one JSON object a line: name, birth_date, nationality, gender.
    #[arg(long, value_name = "FILE", required = false)]
    pub queries: Option<PathBuf>,
    /// Candidates scored in full per check.
    #[arg(long, default_value_t = tabadul_index::CANDIDATES_MAX_DEFAULT)]
    pub candidates_max: usize,
    /// Runs the checks on one core this many times and reports the median round (of an even
    /// number, the slower middle one) and every round's checks per second: one round's figure
    /// moves by up to 10% on a shared machine.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub rounds: u32,
    /// Once the index is built and warmed, creates FILE and waits until it is removed before
    /// the rounds: an instruction counter switched on meanwhile counts every check
    /// (`scripts/bench-instructions`).
    #[arg(long, value_name = "FILE")]
    pub pause_before_rounds: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write a synthetic population of N persons as FollowTheMoney JSON lines on standard
    /// output: Arabic names in Arabic script and romanised, frequent names frequent, families
    /// sharing names.
    Generate {
        count: usize,
        /// Also write this many checks to --queries-out: half of them persons of the population
        /// spelled another way, half strangers.
        #[arg(long, default_value_t = 0)]
        query_count: usize,
        /// Where to write the checks.
        #[arg(long, value_name = "FILE")]
        queries_out: Option<PathBuf>,
        /// The seed: the same seed gives the same population.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Score labelled pairs (JSON lines with `label`, `query`, `candidate`) and print one JSON
    /// object: pairs, positives, negatives, threshold, precision, recall, f1, ap, best_f1,
    /// recall_at_p95, pairs_per_second.
    Pairs {
        /// The pairs, in the format of ../shared/data/eval/*.jsonl.
        file: PathBuf,
        /// Keep the positives whose `alias_relation` is `different_name` (a nom de guerre that no
        /// name matcher can find); they are left out by default.
        #[arg(long)]
        all: bool,
        /// Write each pair's features and label to this file, one JSON array a line, for fitting
        /// the model (scripts/fit-matcher.py).
        #[arg(long, value_name = "PATH")]
        features: Option<PathBuf>,
        /// Write the pairs decided wrongly at the threshold to this file, with their reasons.
        #[arg(long, value_name = "PATH")]
        errors: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgencyCommand {
    /// Add an agency.
    Add {
        /// The agency's code, such as IQ-MOI.
        code: String,
        /// Its country, ISO 3166-1 alpha-2 (IQ, GB, FR, CZ...).
        #[arg(long)]
        country: String,
        /// Its name in English.
        #[arg(long)]
        name: String,
        /// Its name in Arabic.
        #[arg(long)]
        name_ar: Option<String>,
    },
    /// List the agencies.
    List,
}

/// The agency you act for.
#[derive(Debug, Args, Clone)]
pub struct AgencyArg {
    /// The agency you act for [default: [node] agency in the configuration].
    #[arg(long, env = "TABADUL_AGENCY", value_name = "CODE")]
    pub agency: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AgreementCommand {
    /// Add an agreement between two or more agencies.
    Add {
        /// A title, such as "Iraq-Czech memorandum on smuggling of migrants".
        #[arg(long)]
        title: String,
        /// A party (repeat for each, at least two; or comma-separated).
        #[arg(long = "party", required = true, value_delimiter = ',')]
        parties: Vec<String>,
        /// A covered category and its level, CATEGORY=full or CATEGORY=hit (repeat).
        #[arg(long = "share", required = true, value_name = "CATEGORY=LEVEL", value_delimiter = ',')]
        shares: Vec<String>,
        /// First day it applies (YYYY-MM-DD) [default: today].
        #[arg(long)]
        from: Option<String>,
        /// Last day it applies (YYYY-MM-DD) [default: open-ended].
        #[arg(long)]
        until: Option<String>,
        /// The memorandum of understanding it implements.
        #[arg(long)]
        legal_ref: String,
        #[command(flatten)]
        agency: AgencyArg,
    },
    /// List agreements (those your agency is party to, with --agency).
    List {
        #[command(flatten)]
        agency: AgencyArg,
    },
    /// Show one agreement.
    Show {
        id: String,
        #[command(flatten)]
        agency: AgencyArg,
    },
    /// Consent to an agreement another party proposed, for your agency: it applies once every
    /// party has.
    Consent {
        id: String,
        #[command(flatten)]
        agency: AgencyArg,
    },
    /// Revoke an agreement: partners stop seeing what it shared.
    Revoke {
        id: String,
        /// The first day it no longer applies [default: today].
        #[arg(long)]
        on: Option<String>,
        #[command(flatten)]
        agency: AgencyArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Add an alert of your agency.
    Add {
        /// The category: wanted-for-arrest, refusal-of-entry, missing-person, trafficking-risk,
        /// suspected-trafficker, suspected-smuggler, terrorism, discreet-check, inquiry-check,
        /// specific-check, stolen-document, stolen-vehicle.
        #[arg(long)]
        category: String,
        #[command(flatten)]
        fields: AlertFields,
        #[command(flatten)]
        agency: AgencyArg,
    },
    /// Show an alert you may see in full.
    Show {
        id: String,
        #[command(flatten)]
        agency: AgencyArg,
    },
    /// List the alerts you may see in full.
    List {
        /// Only alerts of this owner agency.
        #[arg(long)]
        owner: Option<String>,
        /// Only alerts of this category.
        #[arg(long)]
        category: Option<String>,
        /// Continue after this alert id (the last of the previous page).
        #[arg(long)]
        after: Option<String>,
        /// How many at most (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[command(flatten)]
        agency: AgencyArg,
    },
    /// Change an alert of your agency: the fields given replace the alert's.
    Update {
        id: String,
        /// Apply only if the alert is still at this version.
        #[arg(long)]
        version: Option<u64>,
        #[command(flatten)]
        fields: AlertFields,
        #[command(flatten)]
        agency: AgencyArg,
    },
    /// Delete an alert of your agency.
    Delete {
        id: String,
        /// Delete only if the alert is still at this version.
        #[arg(long)]
        version: Option<u64>,
        #[command(flatten)]
        agency: AgencyArg,
    },
    /// Link two alerts your agency sees in full.
    Link {
        from: String,
        to: String,
        /// same-network, same-case or same-person.
        #[arg(long)]
        kind: String,
        #[command(flatten)]
        agency: AgencyArg,
    },
}

/// The fields of an alert, on add and update.
#[derive(Debug, Args, Clone, Default)]
pub struct AlertFields {
    /// A name as written, in any script (repeat; the first is the primary name).
    #[arg(long = "name", help_heading = "Person")]
    pub names: Vec<String>,
    /// An alias (repeat).
    #[arg(long = "alias", help_heading = "Person")]
    pub aliases: Vec<String>,
    /// A birth date: YYYY, YYYY-MM or YYYY-MM-DD (repeat).
    #[arg(long = "birth-date", help_heading = "Person")]
    pub birth_dates: Vec<String>,
    /// A birth place (repeat).
    #[arg(long = "birth-place", help_heading = "Person")]
    pub birth_places: Vec<String>,
    /// A nationality, ISO 3166-1 alpha-2 (repeat).
    #[arg(long = "nationality", help_heading = "Person")]
    pub nationalities: Vec<String>,
    /// male, female or other.
    #[arg(long, help_heading = "Person")]
    pub gender: Option<String>,
    /// An identity document, NUMBER or STATE:NUMBER with the ICAO state code (repeat).
    #[arg(long = "document", help_heading = "Person")]
    pub documents: Vec<String>,
    /// A warning marker: armed, violent, escaped, suicide-risk, public-health-risk, terrorism (repeat).
    #[arg(long = "marker", help_heading = "Person")]
    pub markers: Vec<String>,

    /// The travel document's number.
    #[arg(long, help_heading = "Travel document")]
    pub doc_number: Option<String>,
    /// The issuing state, ICAO code (IRQ, GBR, D...).
    #[arg(long, help_heading = "Travel document")]
    pub doc_state: Option<String>,
    /// passport, id-card, visa, residence-permit, travel-document, other.
    #[arg(long, help_heading = "Travel document")]
    pub doc_type: Option<String>,
    /// stolen-blank, stolen-from-holder, lost, revoked, invalidated.
    #[arg(long, help_heading = "Travel document")]
    pub doc_status: Option<String>,

    #[arg(long, help_heading = "Vehicle")]
    pub vin: Option<String>,
    #[arg(long, help_heading = "Vehicle")]
    pub plate: Option<String>,
    /// The plate's country, ISO 3166-1 alpha-2.
    #[arg(long, help_heading = "Vehicle")]
    pub plate_country: Option<String>,
    #[arg(long, help_heading = "Vehicle")]
    pub make: Option<String>,
    #[arg(long, help_heading = "Vehicle")]
    pub model: Option<String>,
    #[arg(long, help_heading = "Vehicle")]
    pub colour: Option<String>,

    /// The action on a hit, instead of the category's default: arrest, refuse-entry,
    /// protect-and-refer, report-discreetly, question, seize.
    #[arg(long)]
    pub action: Option<String>,
    /// Handling code H0, H1, H2 or H3 [default on add: H0].
    #[arg(long)]
    pub handling: Option<String>,
    /// The restriction of handling code H3.
    #[arg(long)]
    pub handling_text: Option<String>,
    /// When the owner reviews the alert (YYYY-MM-DD).
    #[arg(long)]
    pub review: Option<String>,
    /// The last day the alert is in force (YYYY-MM-DD).
    #[arg(long)]
    pub expires: Option<String>,
    /// Free-text remarks.
    #[arg(long)]
    pub remarks: Option<String>,
    /// For a person to protect: the service an officer refers them to on a hit.
    #[arg(long)]
    pub refer_to: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Progress {
    /// A bar when standard error is a terminal, else a line per committed batch.
    #[default]
    Auto,
    Bar,
    /// A line per committed batch on standard error.
    Lines,
    None,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: FollowTheMoney entities, one JSON object a line; gzip-compressed is fine.
    pub file: PathBuf,
    /// The category of the alerts made (a person category).
    #[arg(long)]
    pub category: String,
    /// The handling code of the alerts made.
    #[arg(long, default_value = "H0")]
    pub handling: String,
    /// The restriction of handling code H3.
    #[arg(long)]
    pub handling_text: Option<String>,
    /// Alerts per transaction [default: [import] batch_size, or 1000].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// How to show progress.
    #[arg(long, value_enum, default_value_t = Progress::Auto)]
    pub progress: Progress,
    #[command(flatten)]
    pub agency: AgencyArg,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain and name the first entry that does not fit (exit status 1).
    Verify,
    /// List entries of the log.
    List {
        /// Start after this entry number.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// How many at most.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Debug, Args)]
pub struct FederateArgs {
    /// Print this node's public key (hex), for its partners' configuration, and stop.
    #[arg(long)]
    pub show_key: bool,
    /// Keep exchanging, a round every two seconds, until stopped.
    #[arg(long)]
    pub follow: bool,
    /// Print how far replication is with each partner (from the store), and stop.
    #[arg(long)]
    pub status: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The store to copy: an SQLite file or a postgres:// URL.
    #[arg(long, value_name = "PATH|URL")]
    pub from: PathBuf,
    /// The empty store to copy it into: a postgres:// URL or a new SQLite file.
    #[arg(long, value_name = "PATH|URL")]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many synthetic alerts each partner agency gets.
    #[arg(long, default_value_t = 200)]
    pub alerts_per_agency: usize,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub agency: AgencyArg,
    /// The border crossing point where you check.
    #[arg(long, env = "TABADUL_POST", value_name = "POST")]
    pub post: String,
    /// The MRZ: its two or three lines in one argument, separated by newlines (or `\n`).
    #[arg(long)]
    pub mrz: Option<String>,
    /// A name as written, in any script (repeat).
    #[arg(long = "name", help_heading = "Typed identity")]
    pub names: Vec<String>,
    /// A birth date: YYYY, YYYY-MM or YYYY-MM-DD.
    #[arg(long = "birth-date", help_heading = "Typed identity")]
    pub birth_dates: Vec<String>,
    /// A nationality, ISO 3166-1 alpha-2 or alpha-3 (repeat).
    #[arg(long = "nationality", help_heading = "Typed identity")]
    pub nationalities: Vec<String>,
    /// male, female or other.
    #[arg(long, help_heading = "Typed identity")]
    pub gender: Option<String>,
    /// The travel document's number.
    #[arg(long, help_heading = "Typed identity")]
    pub document: Option<String>,
    /// The travel document's issuing state (ICAO code: IRQ, GBR, D...).
    #[arg(long, help_heading = "Typed identity")]
    pub document_state: Option<String>,
    /// The vehicle's identification number.
    #[arg(long, help_heading = "Vehicle")]
    pub vin: Option<String>,
    /// The vehicle's registration plate.
    #[arg(long, help_heading = "Vehicle")]
    pub plate: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Verify a check's receipt: FILE is what `check --json` printed, or the receipt alone.
    /// Exit status 0 if it holds, 1 if not.
    Verify {
        file: PathBuf,
        /// The public key (hex) of the node that signed it [default: this node's key].
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HitsCommand {
    /// The confirmed hits on your agency's alerts that partners notified (not yet acknowledged
    /// ones, unless --all).
    Inbox {
        #[command(flatten)]
        agency: AgencyArg,
        /// Acknowledged notifications too.
        #[arg(long)]
        all: bool,
        /// How many at most.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// The traveller is the alert's subject and you acted: the owner is notified.
    Confirm {
        /// The hit's id (`hit_id` in the check's output).
        hit: String,
        #[command(flatten)]
        agency: AgencyArg,
        /// What you did (detained, refused entry, referred to ...).
        #[arg(long)]
        action_taken: String,
        #[arg(long, default_value = "")]
        remarks: String,
    },
    /// The traveller is not the alert's subject (a false positive, counted for the owner).
    Reject {
        /// The hit's id (`hit_id` in the check's output).
        hit: String,
        #[command(flatten)]
        agency: AgencyArg,
        #[arg(long, default_value = "")]
        remarks: String,
    },
    /// Acknowledge a notification in your inbox.
    Ack {
        notification: String,
        #[command(flatten)]
        agency: AgencyArg,
    },
    /// How many hits on each of your agency's alerts were false positives.
    FalsePositives {
        #[command(flatten)]
        agency: AgencyArg,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address and port to listen on.
    #[arg(long, env = "TABADUL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// On a fresh store file: fill it with the London summit's partners, agreements, alerts and
    /// demo users (their credentials are printed). On an existing one: serve it as it is.
    #[arg(long)]
    pub demo: bool,
    /// With --demo on a fresh file: how many synthetic alerts each partner agency gets.
    #[arg(long, default_value_t = 400)]
    pub alerts_per_agency: usize,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from the first line of standard input.
    Add {
        /// The login name: 2 to 64 of a-z 0-9 . _ @ -.
        name: String,
        /// The user's agency.
        #[arg(long, value_name = "CODE")]
        agency: String,
        /// officer, analyst, supervisor, auditor or administrator (repeat).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long, default_value = "")]
        full_name: String,
    },
    /// List the users (of one agency with --agency).
    List {
        #[arg(long, value_name = "CODE")]
        agency: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ScreenArgs {
    /// The PAXLST interchange (EDIFACT).
    pub file: PathBuf,
    #[command(flatten)]
    pub agency: AgencyArg,
    /// One line per hit as CSV: flight, traveller, birth date, nationality, document, action,
    /// alert, owner, level, score.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// The interactive API's answer for the carrier instead of the report: a UN/EDIFACT CUSRES
    /// message with each traveller's directive (0Z board, 1Z no board, 2Z contact the
    /// government).
    #[arg(long, conflicts_with_all = ["json", "csv"])]
    pub cusres: bool,
}
