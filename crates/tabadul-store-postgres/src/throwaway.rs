//! A throw-away PostgreSQL cluster for tests and benchmarks: `initdb` in a temporary folder,
//! a server on a free loopback port, removed again when dropped or, at the latest, when the
//! process that started it exits.
//!
//! It never uses a server that happens to be running. When PostgreSQL is not installed it is
//! installed from Debian's packages (`apt-get install postgresql`), once, under a lock shared
//! by the test processes. As root, the cluster runs as the `postgres` user (PostgreSQL refuses
//! to run as root).

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// Why a cluster could not be started.
#[derive(Debug)]
pub struct ClusterError(pub String);

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClusterError {}

type Result<T> = std::result::Result<T, ClusterError>;

fn fail(what: impl Into<String>) -> ClusterError {
    ClusterError(what.into())
}

/// A running throw-away cluster.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// The user the server runs as, when not the current one.
    run_as: Option<String>,
    databases: AtomicU32,
}

impl Cluster {
    /// Starts a new cluster; installs PostgreSQL first if it is missing.
    pub fn start() -> Result<Cluster> {
        let bin = match find_bin_dir() {
            Some(bin) => bin,
            None => {
                install()?;
                find_bin_dir().ok_or_else(|| fail("PostgreSQL was installed but no initdb was found"))?
            }
        };
        let root = Path::new("/proc/self").metadata().map(|m| m.uid() == 0).unwrap_or(false);
        let run_as = root.then(|| "postgres".to_string());
        let dir = std::env::temp_dir().join(format!("tabadul-pg-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).map_err(|e| fail(format!("create {}: {e}", dir.display())))?;
        if let Some(user) = &run_as {
            let (uid, gid) = (id_of(user, "-u")?, id_of(user, "-g")?);
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| fail(format!("give {} to {user}: {e}", dir.display())))?;
        }
        let mut cluster = Cluster { bin, dir, port: 0, run_as, databases: AtomicU32::new(0) };
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &["-D", path_str(&data)?, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"],
        )?;
        cluster.port = free_port()?;
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            cluster.port,
            path_str(&cluster.dir)?
        );
        let log = cluster.dir.join("server.log");
        cluster.run("pg_ctl", &["-D", path_str(&data)?, "-l", path_str(&log)?, "-o", &options, "-w", "start"])?;
        cluster.watch();
        Ok(cluster)
    }

    /// The URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates a new, empty database and returns its URL.
    pub fn create_database(&self) -> Result<String> {
        let name = format!("tabadul_{}", self.databases.fetch_add(1, Ordering::Relaxed));
        let port = self.port.to_string();
        self.run("createdb", &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", &name])?;
        Ok(self.database_url(&name))
    }

    /// The cluster's data folder: its size is the cluster's size on disk.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<()> {
        let output = self
            .command(program)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| fail(format!("run {program}: {e}")))?;
        if !output.status.success() {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            return Err(fail(format!(
                "{program} failed ({}): {}{}\n{log}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(())
    }

    /// Starts a watchdog that stops the server and removes the folder once this process is
    /// gone, even if it never drops the cluster (a static, a panic, a kill).
    fn watch(&self) {
        let stop = format!(
            "{} -D '{}' -m immediate -w stop",
            self.bin.join("pg_ctl").display(),
            self.dir.join("data").display()
        );
        let stop = match &self.run_as {
            Some(user) => format!("runuser -u {user} -- {stop}"),
            None => stop,
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        let spawned = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Err(e) = spawned {
            eprintln!("warning: no watchdog for the PostgreSQL cluster in {}: {e}", self.dir.display());
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Ok(data) = path_str(&self.dir.join("data")) {
            let _ = self.run("pg_ctl", &["-D", data, "-m", "immediate", "-w", "stop"]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn unique() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| fail(format!("{} is not UTF-8", path.display())))
}

fn id_of(user: &str, flag: &str) -> Result<u32> {
    let output = Command::new("id").args([flag, user]).output().map_err(|e| fail(format!("run id: {e}")))?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| fail(format!("there is no user {user} to run PostgreSQL as")))
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| fail(format!("find a free port: {e}")))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| fail(format!("find a free port: {e}")))
}

/// The newest `/usr/lib/postgresql/<version>/bin` with an `initdb`, or the folder of an
/// `initdb` on the PATH.
fn find_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
}

/// Installs PostgreSQL from Debian's packages, once among concurrent test processes.
fn install() -> Result<()> {
    let lock = File::create(std::env::temp_dir().join("tabadul-apt.lock"))
        .map_err(|e| fail(format!("create the install lock: {e}")))?;
    lock.lock().map_err(|e| fail(format!("take the install lock: {e}")))?;
    if find_bin_dir().is_some() {
        return Ok(());
    }
    eprintln!("PostgreSQL is missing: installing it from Debian's packages");
    for args in [&["update"][..], &["install", "-y", "--no-install-recommends", "postgresql"][..]] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
            .map_err(|e| fail(format!("run apt-get: {e}")))?;
        if !status.success() {
            return Err(fail(format!("apt-get {} failed ({status})", args.join(" "))));
        }
    }
    Ok(())
}
