//! A throw-away nats-server with JetStream for tests and benchmarks: its own store in a
//! temporary folder, a free loopback port, stopped when dropped. Installed from Debian's
//! packages (`apt-get install nats-server`) when missing, once, under a lock shared by the
//! test processes. It never uses a server that happens to be running.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running (or stopped, to simulate a partition) nats-server.
#[derive(Debug)]
pub struct Nats {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Nats {
    /// Starts a server; its JetStream store survives [`Nats::stop`] and [`Nats::run`].
    pub fn start() -> Result<Nats, String> {
        let binary = nats_binary()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("find a free port: {e}"))?
            .port();
        let dir = std::env::temp_dir().join(format!("tabadul-nats-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let mut nats = Nats { binary, dir, port, child: None };
        nats.run()?;
        Ok(nats)
    }

    /// Starts the server again (after [`Nats::stop`]).
    pub fn run(&mut self) -> Result<(), String> {
        let child = Command::new(&self.binary)
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(self.dir.join("jetstream"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("start {}: {e}", self.binary.display()))?;
        self.child = Some(child);
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Err(format!("nats-server did not listen on port {}", self.port))
    }

    /// Stops the server (its store stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Debian's nats-server, installed if missing.
pub fn nats_binary() -> Result<PathBuf, String> {
    let known =
        || ["/usr/sbin/nats-server", "/usr/bin/nats-server"].map(PathBuf::from).into_iter().find(|p| p.exists());
    if let Some(found) = known() {
        return Ok(found);
    }
    let lock = std::fs::File::create(std::env::temp_dir().join("tabadul-apt.lock"))
        .map_err(|e| format!("create the install lock: {e}"))?;
    lock.lock().map_err(|e| format!("take the install lock: {e}"))?;
    if let Some(found) = known() {
        return Ok(found);
    }
    for args in [&["update"][..], &["install", "-y", "--no-install-recommends", "nats-server"][..]] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("run apt-get: {e}"))?;
        if !status.success() {
            return Err(format!("apt-get {} failed ({status}): install nats-server", args.join(" ")));
        }
    }
    known().ok_or_else(|| format!("nats-server was installed but not found in {}", Path::new("/usr/sbin").display()))
}
