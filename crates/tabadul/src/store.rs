//! Where a node keeps its data: an SQLite file (the embedded default) or a PostgreSQL
//! database (national central nodes), named by `--db`, `TABADUL_DB` or `[store]`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tabadul_store::Store;
use tabadul_store_postgres::PgStore;
use tabadul_store_sqlite::SqliteStore;

/// A store's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    File(PathBuf),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl StoreLocation {
    /// Reads `--db`: a PostgreSQL URL, else a file path.
    pub fn parse(text: &Path) -> StoreLocation {
        match text.to_str() {
            Some(url) if tabadul_store_postgres::is_postgres_url(url) => StoreLocation::Postgres(url.to_owned()),
            _ => StoreLocation::File(text.to_path_buf()),
        }
    }

    /// Checks what can be checked without connecting: a file's folder exists.
    pub fn validate(&self) -> Result<()> {
        match self {
            StoreLocation::File(path) => {
                if path.as_os_str().is_empty() {
                    bail!("the store path is empty");
                }
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
                    && !parent.is_dir()
                {
                    bail!("the store's folder {} does not exist", parent.display());
                }
                Ok(())
            }
            StoreLocation::Postgres(url) => Ok(tabadul_store_postgres::check_url(url)?),
        }
    }

    /// Whether the store was created already (a file exists; a database always may be
    /// connected to, and is made ready on connection).
    pub fn exists(&self) -> bool {
        match self {
            StoreLocation::File(path) => path.exists(),
            StoreLocation::Postgres(_) => true,
        }
    }

    /// Opens the store, creating it (or its schema) if needed.
    pub fn open(&self) -> Result<Opened> {
        match self {
            StoreLocation::File(path) => {
                let store = SqliteStore::open(path).with_context(|| format!("open the store {}", path.display()))?;
                Ok(Opened::Sqlite(Arc::new(store)))
            }
            StoreLocation::Postgres(url) => {
                let store = PgStore::connect(url).with_context(|| format!("connect to the store {self}"))?;
                Ok(Opened::Postgres(Arc::new(store)))
            }
        }
    }

    /// The default file of the node's signing key: beside the SQLite file, or `tabadul.key`
    /// in the current folder for a database.
    pub fn default_key_path(&self) -> PathBuf {
        match self {
            StoreLocation::File(path) => {
                let mut name = path.clone().into_os_string();
                name.push(".key");
                PathBuf::from(name)
            }
            StoreLocation::Postgres(_) => PathBuf::from("tabadul.key"),
        }
    }
}

/// Shown without any password.
impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::File(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(url) => f.write_str(&tabadul_store_postgres::redact_url(url)),
        }
    }
}

impl serde::Serialize for StoreLocation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// An open store, with what each backend offers beyond the [`Store`] interface.
pub enum Opened {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

impl Opened {
    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Opened::Sqlite(store) => store.clone(),
            Opened::Postgres(store) => store.clone(),
        }
    }

    pub fn schema_version(&self) -> Result<u32> {
        Ok(match self {
            Opened::Sqlite(store) => store.schema_version()?,
            Opened::Postgres(store) => store.schema_version()?,
        })
    }

    /// Whether the store holds nothing yet (no agency, alert, user or audit entry).
    pub fn is_empty(&self) -> Result<bool> {
        let store = self.store();
        Ok(store.agencies()?.is_empty()
            && store.alert_count()? == 0
            && store.users(None)?.is_empty()
            && store.audit_entries(0, 1)?.is_empty())
    }
}
