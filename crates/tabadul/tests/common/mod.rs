//! What the command-line tests share: running the real binary on a store of its own.
#![allow(dead_code)] // each test binary uses a part

use std::path::PathBuf;
use std::process::{Command, Output};

/// A node's command line on a store of its own: an SQLite file in a temporary folder, or a
/// database.
pub struct Node {
    pub dir: tempfile::TempDir,
    db: Option<String>,
}

impl Node {
    /// On a fresh SQLite file.
    pub fn new() -> Node {
        Node { dir: tempfile::tempdir().expect("temp dir"), db: None }
    }

    /// On the store at `db` (a postgres:// URL, say).
    pub fn on(db: &str) -> Node {
        Node { dir: tempfile::tempdir().expect("temp dir"), db: Some(db.to_owned()) }
    }

    pub fn db(&self) -> PathBuf {
        match &self.db {
            Some(db) => PathBuf::from(db),
            None => self.dir.path().join("tabadul.db"),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tabadul"));
        command
            .current_dir(self.dir.path())
            .env_remove("TABADUL_AGENCY")
            .env_remove("TABADUL_CONFIG")
            .env("TABADUL_DB", self.db())
            .env("TABADUL_USER", "tester")
            .args(args);
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run tabadul")
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "tabadul {args:?} failed:\n{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(&args)).expect("JSON output")
    }

    /// Runs a command that must fail; returns its standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(!output.status.success(), "tabadul {args:?} should have failed");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    pub fn partners(&self) {
        self.ok(&["init"]);
        self.ok(&[
            "agency",
            "add",
            "IQ-MOI",
            "--country",
            "IQ",
            "--name",
            "Ministry of Interior",
            "--name-ar",
            "وزارة الداخلية",
        ]);
        self.ok(&["agency", "add", "CZ-MV", "--country", "CZ", "--name", "Ministerstvo vnitra"]);
        self.ok(&["agency", "add", "GB-HO", "--country", "GB", "--name", "Home Office"]);
        self.ok(&[
            "agreement",
            "add",
            "--title",
            "Iraq-Czech MoU",
            "--party",
            "IQ-MOI",
            "--party",
            "CZ-MV",
            "--share",
            "suspected-smuggler=full,trafficking-risk=hit",
            "--from",
            "2026-01-01",
            "--legal-ref",
            "MoU 2026/4",
        ]);
    }
}

impl Node {
    /// Iraq's alert on Abdul Ameer al-Shammari, a suspected smuggler, written in Arabic script
    /// (the MoU of `partners` shares it with the Czech Republic in full).
    pub fn shammari(&self) {
        let name = "عبد الأمير حسن الشمري";
        let category = ["--category", "suspected-smuggler", "--name", name, "--birth-date", "1985-01-01"];
        let mut args = vec!["alert", "add", "--agency", "IQ-MOI", "--nationality", "IQ", "--marker", "armed"];
        args.extend(category);
        self.ok(&args);
    }

    /// Iraq reports a travel document of `state` stolen or lost (`status`).
    pub fn stolen_document(&self, number: &str, state: &str, status: &str) {
        let document = ["--doc-number", number, "--doc-state", state, "--doc-status", status];
        let mut args = vec!["alert", "add", "--agency", "IQ-MOI", "--category", "stolen-document"];
        args.extend(document);
        self.ok(&args);
    }
}

impl Node {
    pub fn json_allowing_failure(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_slice(&self.run(&args).stdout).expect("JSON output")
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.1 request over a plain socket; the status and the body.
pub fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}
