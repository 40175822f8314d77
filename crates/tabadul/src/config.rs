//! Configuration in two stages: the raw form (file, environment, flags) and the validated
//! [`Config`] that the commands use. `tabadul check-config` runs the first stage and the
//! validation without touching anything.
//!
//! The file is TOML; every key is optional:
//!
//! ```toml
//! [store]
//! path = "tabadul.db"      # the SQLite file; --db and TABADUL_DB override it
//! # url = "postgres://tabadul@db.example/tabadul"   # or a PostgreSQL database instead
//!
//! [node]
//! agency = "IQ-MOI"        # the agency commands act for when --agency is not given
//!
//! [import]
//! batch_size = 1000        # alerts per transaction
//!
//! [federation]             # replication with partner nodes over NATS JetStream
//! nats = "nats://nats.example:4222"
//! # tls = { ca = "ca.pem", cert = "node.pem", key = "node-key.pem" }   # mutual TLS
//! [[federation.partners]]
//! agency = "CZ-MV"
//! key = "<its node's public key, hex>"
//! secret = "<32 bytes hex, shared with it: the hit keys' secret>"
//! [[federation.posts]]    # a national node's border posts, which replicate it
//! name = "BSR"
//! key = "<the post's public key, hex>"
//! ```
//!
//! A border post names its national node instead (its agency is `[node] agency`; its partners
//! are the national node's, whose envelopes it receives relayed):
//!
//! ```toml
//! [federation]
//! nats = "nats://nats.example:4222"
//! post = "BSR"
//! national_key = "<the national node's public key, hex>"
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use tabadul_domain::AgencyCode;

use crate::store::StoreLocation;

/// Where the configuration file is looked for when none is named.
pub const DEFAULT_CONFIG_FILE: &str = "tabadul.toml";
pub const DEFAULT_DB_FILE: &str = "tabadul.db";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    node: RawNode,
    #[serde(default)]
    import: RawImport,
    #[serde(default)]
    federation: Option<RawFederation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFederation {
    nats: String,
    #[serde(default)]
    tls: Option<RawTls>,
    #[serde(default)]
    partners: Vec<RawPartner>,
    #[serde(default)]
    posts: Vec<RawPost>,
    /// This node is that border post of its agency.
    #[serde(default)]
    post: Option<String>,
    #[serde(default)]
    national_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPost {
    name: String,
    key: String,
}

/// A border post of this (national) node: its name and the key its reports are verified with.
#[derive(Debug, Clone)]
pub struct Post {
    pub name: tabadul_federation::PostName,
    pub key: [u8; 32],
}

/// What this node is to a national node when it is one of its border posts.
#[derive(Debug, Clone)]
pub struct PostOf {
    pub name: tabadul_federation::PostName,
    /// The national node's public key.
    pub national_key: [u8; 32],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartner {
    agency: String,
    key: String,
    secret: String,
}

/// A partner node: its agency, the public key its envelopes are verified with, and the secret
/// of the hit keys exchanged with it.
#[derive(Debug, Clone)]
pub struct Partner {
    pub agency: AgencyCode,
    pub key: [u8; 32],
    pub secret: [u8; 32],
}

/// The validated `[federation]` section.
#[derive(Debug, Clone)]
pub struct Federation {
    pub nats: String,
    pub tls: Option<tabadul_backbone::Tls>,
    pub partners: Vec<Partner>,
    /// A national node's border posts.
    pub posts: Vec<Post>,
    /// Set when this node is a border post.
    pub post: Option<PostOf>,
}

impl Serialize for Federation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Never the secrets.
        let partners: Vec<String> = self.partners.iter().map(|p| p.agency.to_string()).collect();
        let posts: Vec<String> = self.posts.iter().map(|p| p.name.to_string()).collect();
        let post = self.post.as_ref().map(|p| p.name.to_string());
        serde_json::json!({ "nats": self.nats, "tls": self.tls.is_some(), "partners": partners, "posts": posts, "post": post })
            .serialize(serializer)
    }
}

fn hex32(what: &str, text: &str) -> Result<[u8; 32]> {
    let bytes = hex::decode(text.trim()).with_context(|| format!("{what} is not hex"))?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("{what} must be 32 bytes (64 hex digits)"))
}

impl RawFederation {
    fn validate(self) -> Result<Federation> {
        if !(self.nats.starts_with("nats://") || self.nats.starts_with("tls://")) {
            bail!("[federation] nats must be a nats:// or tls:// URL");
        }
        let partners = self
            .partners
            .into_iter()
            .map(|p| {
                let agency = AgencyCode::new(&p.agency).context("check [[federation.partners]] agency")?;
                let key = hex32(&format!("the key of partner {agency}"), &p.key)?;
                let secret = hex32(&format!("the secret shared with {agency}"), &p.secret)?;
                Ok(Partner { agency, key, secret })
            })
            .collect::<Result<Vec<_>>>()?;
        let posts = self
            .posts
            .into_iter()
            .map(|p| {
                let name = tabadul_federation::PostName::new(&p.name)
                    .map_err(anyhow::Error::msg)
                    .context("check [[federation.posts]] name")?;
                let key = hex32(&format!("the key of post {name}"), &p.key)?;
                Ok(Post { name, key })
            })
            .collect::<Result<Vec<_>>>()?;
        let post = match (self.post, self.national_key) {
            (Some(name), Some(key)) => Some(PostOf {
                name: tabadul_federation::PostName::new(&name)
                    .map_err(anyhow::Error::msg)
                    .context("check [federation] post")?,
                national_key: hex32("[federation] national_key", &key)?,
            }),
            (None, None) => None,
            _ => bail!("a border post names both [federation] post and national_key"),
        };
        if post.is_some() && !posts.is_empty() {
            bail!("a border post has no posts of its own: remove [[federation.posts]] or [federation] post");
        }
        let tls = self.tls.map(|t| tabadul_backbone::Tls { ca: t.ca, cert: t.cert, key: t.key });
        Ok(Federation { nats: self.nats, tls, partners, posts, post })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<PathBuf>,
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    agency: Option<String>,
    /// The file of the node's signing key.
    key: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImport {
    batch_size: Option<usize>,
}

/// The validated configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
    /// The store: a file, or a PostgreSQL database.
    pub store: StoreLocation,
    pub default_agency: Option<AgencyCode>,
    pub import_batch_size: usize,
    /// The node's signing key (for check receipts): `[node] key`, else the store's path with
    /// `.key` added (`tabadul.key` for a database).
    pub key_path: PathBuf,
    /// Replication with partner nodes, if configured.
    pub federation: Option<Federation>,
}

impl RawConfig {
    /// Reads `explicit` (which must exist), else `tabadul.toml` in the current folder if there
    /// is one, else nothing.
    pub fn load(explicit: Option<&Path>) -> Result<(RawConfig, Option<PathBuf>)> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => PathBuf::from(DEFAULT_CONFIG_FILE),
            None => return Ok((RawConfig::default(), None)),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("read the configuration file {}", path.display()))?;
        let raw = toml::from_str(&text).with_context(|| format!("parse the configuration file {}", path.display()))?;
        Ok((raw, Some(path)))
    }

    /// Validates, with `db_override` (from --db or TABADUL_DB) winning over the file.
    pub fn validate(self, file: Option<PathBuf>, db_override: Option<PathBuf>) -> Result<Config> {
        let RawConfig {
            store: RawStore { path, url },
            node: RawNode { agency, key },
            import: RawImport { batch_size },
            federation,
        } = self;
        let store = match (db_override, path, url) {
            (Some(db), _, _) => StoreLocation::parse(&db),
            (None, Some(_), Some(_)) => bail!("[store] has both a path and a url: give one"),
            (None, Some(path), None) => StoreLocation::File(path),
            (None, None, Some(url)) if tabadul_store_postgres::is_postgres_url(&url) => StoreLocation::Postgres(url),
            (None, None, Some(_)) => bail!("[store] url must start with postgres:// or postgresql://"),
            (None, None, None) => StoreLocation::File(PathBuf::from(DEFAULT_DB_FILE)),
        };
        store.validate()?;
        let default_agency = agency.map(|code| AgencyCode::new(&code)).transpose().context("check [node] agency")?;
        let import_batch_size = batch_size.unwrap_or(tabadul_node::IMPORT_BATCH_DEFAULT);
        if !(1..=tabadul_store::WRITES_PER_BATCH_MAX).contains(&import_batch_size) {
            bail!("[import] batch_size must be from 1 to {}", tabadul_store::WRITES_PER_BATCH_MAX);
        }
        let key_path = key.unwrap_or_else(|| store.default_key_path());
        let federation = federation.map(RawFederation::validate).transpose().context("check [federation]")?;
        Ok(Config { file, store, default_agency, import_batch_size, key_path, federation })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(text: &str) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text)?;
        raw.validate(None, None)
    }

    #[test]
    fn validates_each_field() {
        let config = validate("[node]\nagency = \"iq-moi\"\n[import]\nbatch_size = 50").unwrap();
        assert_eq!(config.default_agency.unwrap().as_str(), "IQ-MOI");
        assert_eq!(config.import_batch_size, 50);
        assert_eq!(config.store, StoreLocation::File(PathBuf::from("tabadul.db")));
        assert_eq!(config.key_path, PathBuf::from("tabadul.db.key"));
        assert!(validate("[node]\nagency = \"bad code\"").is_err());
        assert!(validate("[import]\nbatch_size = 0").is_err());
        assert!(validate("[store]\npath = \"/nonexistent/dir/t.db\"").is_err());
        assert!(toml::from_str::<RawConfig>("[store]\npaht = \"x\"").is_err());
    }

    #[test]
    fn the_flag_wins_over_the_file() {
        let raw: RawConfig = toml::from_str("[store]\npath = \"a.db\"").unwrap();
        let config = raw.validate(None, Some(PathBuf::from("b.db"))).unwrap();
        assert_eq!(config.store, StoreLocation::File(PathBuf::from("b.db")));
    }

    #[test]
    fn a_database_is_named_by_its_url_and_shown_without_its_password() {
        let raw: RawConfig =
            toml::from_str("[store]\nurl = \"postgres://tabadul:secret@db.example:5433/nodes\"").unwrap();
        let config = raw.validate(None, None).unwrap();
        assert!(matches!(config.store, StoreLocation::Postgres(_)));
        assert_eq!(config.store.to_string(), "postgres://tabadul@db.example:5433/nodes");
        assert!(!serde_json::to_string(&config).unwrap().contains("secret"));
        assert_eq!(config.key_path, PathBuf::from("tabadul.key"));
        let flag = RawConfig::default().validate(None, Some(PathBuf::from("postgresql://u@h/d"))).unwrap();
        assert!(matches!(flag.store, StoreLocation::Postgres(_)));
        assert!(validate("[store]\npath = \"a.db\"\nurl = \"postgres://h/d\"").is_err());
        assert!(validate("[store]\nurl = \"mysql://h/d\"").is_err());
        assert!(validate("[store]\nurl = \"postgres://h:notaport/d\"").is_err());
    }

    #[test]
    fn federation_names_partners_with_their_keys_and_never_shows_a_secret() {
        let hex = "ab".repeat(32);
        let text = format!(
            "[federation]\nnats = \"nats://127.0.0.1:4222\"\n[[federation.partners]]\nagency = \"cz-mv\"\nkey = \"{hex}\"\nsecret = \"{}\"",
            "cd".repeat(32)
        );
        let config = validate(&text).unwrap();
        let federation = config.federation.as_ref().unwrap();
        assert_eq!(federation.partners[0].agency.as_str(), "CZ-MV");
        assert!(!serde_json::to_string(&config).unwrap().contains("cdcd"));
        assert!(validate(&text.replace("nats://", "http://")).is_err());
        assert!(validate(&text.replace(&hex, "abcd")).is_err());
    }
}
