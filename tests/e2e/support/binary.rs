//! Running the real `borough` binary: a child-process guard that collects its
//! output while it runs and never lets it outlive the test, and federation folders
//! laid out exactly as an operator would have them, with no node started.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use borough_model::GssCode;
use borough_node::federation::{config_path, LocalFederation};
use tokio::net::TcpListener;

use super::{eventually, example_agreements, gss};

/// The `borough` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_borough");

/// How long a command that should finish by itself (a refusal, `status`,
/// `certs init`, the demo) may take.
pub const COMMAND: Duration = Duration::from_secs(60);

/// A running `borough` process. Its stdout and stderr are collected as they
/// arrive; dropping it SIGKILLs the process (if still running) and reaps it.
pub struct Process {
    what: String,
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

/// A process that has exited, with everything it wrote.
#[derive(Debug)]
pub struct Finished {
    /// The command line, for assertion messages.
    pub what: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// Panics with the command's output unless it exited with status 0.
    pub fn assert_success(&self) {
        assert!(self.status.success(), "{} failed: {self:#?}", self.what);
    }

    /// Panics with the command's output unless it exited with a non-zero status.
    pub fn assert_failure(&self) {
        assert!(
            !self.status.success() && self.status.code().is_some(),
            "{} should have exited with a non-zero status: {self:#?}",
            self.what
        );
    }
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => into
                    .lock()
                    .expect("output buffer")
                    .extend_from_slice(&buf[..n]),
            }
        }
    })
}

fn text(buf: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&buf.lock().expect("output buffer")).into_owned()
}

impl Process {
    /// Starts `borough <args>`, with no log filter inherited from the caller.
    pub fn spawn<I, S>(args: I) -> Process
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let what = format!(
            "`borough {}`",
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let mut child = Command::new(BIN)
            .args(&args)
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(child.stdout.take().expect("piped stdout"), stdout.clone()),
            collect(child.stderr.take().expect("piped stderr"), stderr.clone()),
        ];
        Process {
            what,
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything written to stdout so far.
    pub fn stdout(&self) -> String {
        text(&self.stdout)
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        text(&self.stderr)
    }

    /// Sends SIGTERM, as an operator's service manager would.
    pub fn terminate(&mut self) {
        assert!(
            self.child.try_wait().expect("try_wait").is_none(),
            "{} exited before it was asked to: {}",
            self.what,
            self.stderr()
        );
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {} failed", self.pid());
    }

    /// Waits (at most `within`) for the process to exit, then returns its status
    /// and complete output.
    pub async fn exit(mut self, within: Duration) -> Finished {
        let what = format!("{} to exit", self.what);
        let child = &mut self.child;
        let status = eventually(&what, within, || {
            let done = child.try_wait().expect("try_wait");
            async move { done }
        })
        .await;
        // The pipes close when the process exits, so the readers finish.
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        Finished {
            what: self.what.clone(),
            status,
            stdout: self.stdout(),
            stderr: self.stderr(),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

/// Runs `borough <args>` to completion (at most [`COMMAND`]).
pub async fn run<I, S>(args: I) -> Finished
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Process::spawn(args).exit(COMMAND).await
}

/// A federation folder laid out by the library (certificates from `certs init`,
/// agreements, one config file per borough, every other borough a peer) with no
/// node running.
pub struct Layout {
    pub dir: tempfile::TempDir,
    pub addresses: BTreeMap<GssCode, SocketAddr>,
}

impl Layout {
    /// Lays out `boroughs` under the example agreements and frees every port.
    pub async fn new(boroughs: &[&str]) -> Layout {
        let (layout, listeners) = Layout::with_listeners(boroughs, &example_agreements()).await;
        drop(listeners);
        layout
    }

    /// Lays out `boroughs` under `agreements`, returning the listeners that hold
    /// each node's port (in the order of `boroughs`).
    pub async fn with_listeners(
        boroughs: &[&str],
        agreements: &[(String, String)],
    ) -> (Layout, Vec<TcpListener>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let codes: Vec<GssCode> = boroughs.iter().map(|b| gss(b)).collect();
        let (federation, listeners) = LocalFederation::lay_out(dir.path(), &codes, agreements, "")
            .await
            .expect("federation folder laid out");
        let addresses = federation.addresses().clone();
        (Layout { dir, addresses }, listeners)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The borough's node configuration file.
    pub fn config(&self, borough: &str) -> PathBuf {
        config_path(self.root(), gss(borough))
    }

    /// The folder holding every node's data directory.
    pub fn data(&self) -> PathBuf {
        self.root().join("data")
    }

    /// The borough's certificate folder.
    pub fn certs(&self, borough: &str) -> PathBuf {
        self.root().join("certs").join(borough)
    }

    /// The borough's node address.
    pub fn address(&self, borough: &str) -> SocketAddr {
        self.addresses[&gss(borough)]
    }

    /// Starts `borough node` for `borough` (not waiting for it to serve).
    pub fn spawn_node(&self, borough: &str) -> Process {
        Process::spawn([
            OsStr::new("node"),
            "--config".as_ref(),
            self.config(borough).as_os_str(),
        ])
    }

    /// Runs `borough status` for `borough`'s node.
    pub async fn status(&self, borough: &str) -> Finished {
        run([
            OsStr::new("status"),
            "--config".as_ref(),
            self.config(borough).as_os_str(),
        ])
        .await
    }

    /// Polls `borough status` until it succeeds and `accept` holds for its stdout,
    /// returning that stdout.
    pub async fn status_until(
        &self,
        borough: &str,
        within: Duration,
        accept: impl Fn(&str) -> bool,
    ) -> String {
        let what = format!("`borough status` of {borough} to succeed and show what is expected");
        let accept = &accept;
        eventually(&what, within, || async move {
            let out = self.status(borough).await;
            (out.status.success() && accept(&out.stdout)).then_some(out.stdout)
        })
        .await
    }
}
