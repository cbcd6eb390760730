//! Nodes as real `borough node` processes: a federation laid out on disk by
//! `LocalFederation::lay_out`, each node started from the built binary on its own
//! configuration file, crashed with SIGKILL or stopped with SIGTERM, and restarted
//! on the same configuration and data directory. Every process is killed and
//! reaped when its `NodeProcess` is dropped, even if the test panics.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use borough_model::{Dataset, GssCode};
use borough_node::federation::LocalFederation;
use borough_node::NodeConfig;
use borough_proto::v1;
use borough_store::Store;
use tonic::transport::Channel;

use super::{example_agreements, gss};

/// How long a node process may take to answer its first status call.
pub const READY: Duration = Duration::from_secs(20);

/// How long a node may take to exit after SIGTERM (its shutdown grace is 10 s).
pub const EXIT: Duration = Duration::from_secs(20);

/// Certificates, agreements and one configuration file per borough in a temporary
/// folder; no node runs until `start` is called.
pub struct ProcessFederation {
    dir: Arc<tempfile::TempDir>,
    configs: BTreeMap<GssCode, PathBuf>,
    log_filter: String,
}

impl ProcessFederation {
    /// Lays out `boroughs` under the example agreements with `extra` appended to
    /// every node's configuration. The ports are bound only to choose them, then
    /// released so the node processes can bind them.
    pub async fn lay_out(boroughs: &[&str], extra: &str) -> ProcessFederation {
        let dir = tempfile::tempdir().expect("temp dir");
        let codes: Vec<GssCode> = boroughs.iter().map(|b| gss(b)).collect();
        let (federation, listeners) =
            LocalFederation::lay_out(dir.path(), &codes, &example_agreements(), extra)
                .await
                .expect("federation lays out");
        drop(listeners);
        let configs = codes
            .iter()
            .map(|&b| (b, federation.config_path(b)))
            .collect();
        ProcessFederation {
            dir: Arc::new(dir),
            configs,
            log_filter: "info".into(),
        }
    }

    /// Runs every node with this `RUST_LOG` filter (`trace` for the canary test).
    pub fn with_log_filter(mut self, filter: &str) -> ProcessFederation {
        self.log_filter = filter.to_string();
        self
    }

    /// The log file of `borough`'s node.
    pub fn log_path(&self, borough: &str) -> PathBuf {
        self.root().join(format!("{borough}.log"))
    }

    /// The federation's root folder.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Starts `borough`'s node process and waits until it answers a status call.
    pub async fn start(&self, borough: &str) -> NodeProcess {
        let mut node = self.spawn(borough);
        node.wait_ready().await;
        node
    }

    /// Starts `borough`'s node process without waiting for it to answer.
    pub fn spawn(&self, borough: &str) -> NodeProcess {
        let code = gss(borough);
        let config_path = self.configs[&code].clone();
        let config = NodeConfig::load(&config_path).expect("node config loads");
        let mut node = NodeProcess {
            borough: code,
            config,
            config_path,
            log: self.log_path(borough),
            certs: self.root().join("certs").join(borough),
            child: None,
            dir: self.dir.clone(),
            log_filter: self.log_filter.clone(),
        };
        node.spawn();
        node
    }
}

/// One borough's node running as a child process (or stopped, between a kill and
/// a restart). Dropping it SIGKILLs and reaps the process.
pub struct NodeProcess {
    borough: GssCode,
    config: NodeConfig,
    config_path: PathBuf,
    log: PathBuf,
    certs: PathBuf,
    child: Option<Child>,
    /// Keeps the data directory alive for as long as the process may use it.
    dir: Arc<tempfile::TempDir>,
    /// The process's `RUST_LOG`.
    log_filter: String,
}

impl NodeProcess {
    /// The node's configuration, as loaded from its file.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The process id; panics if the node is not running.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("node process running").id()
    }

    /// Starts `borough node --config <file>`, appending its output to its log file.
    fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.borough);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open node log");
        let child = Command::new(env!("CARGO_BIN_EXE_borough"))
            .arg("node")
            .arg("--config")
            .arg(&self.config_path)
            .env("RUST_LOG", &self.log_filter)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn borough node");
        self.child = Some(child);
    }

    /// Panics with the log tail if the process has exited.
    fn assert_running(&mut self, during: &str) {
        let child = self.child.as_mut().expect("node process running");
        if let Some(status) = child.try_wait().expect("poll node process") {
            self.child = None;
            panic!(
                "{} exited ({status}) while {during}; log tail:\n{}",
                self.borough,
                log_tail(&self.log)
            );
        }
    }

    /// Waits until the node answers a status call as its admin.
    pub async fn wait_ready(&mut self) {
        let what = format!("{} (pid {}) to answer status", self.borough, self.pid());
        self.wait_status(&what, READY, |_| Some(())).await
    }

    /// Polls the node's status until `check` accepts it, failing with `what` after
    /// `within`, or at once if the process exits. One admin connection is reused
    /// between polls (and re-dialled if it breaks), so polls can be frequent.
    pub async fn wait_status<T>(
        &mut self,
        what: &str,
        within: Duration,
        mut check: impl FnMut(&v1::StatusReply) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + within;
        let mut admin = None;
        let mut last = String::from("no reply yet");
        loop {
            self.assert_running(&format!("waiting for {what}"));
            if admin.is_none() {
                match self.connect_as("admin").await {
                    Ok(channel) => admin = Some(v1::admin_client::AdminClient::new(channel)),
                    Err(e) => last = e.to_string(),
                }
            }
            if let Some(client) = admin.as_mut() {
                match client.status(v1::StatusRequest {}).await {
                    Ok(reply) => {
                        let reply = reply.into_inner();
                        if let Some(v) = check(&reply) {
                            return v;
                        }
                        last = format!("{reply:?}");
                    }
                    Err(status) => {
                        last = status.to_string();
                        admin = None;
                    }
                }
            }
            if Instant::now() > deadline {
                panic!("timed out after {within:?} waiting for {what}; last status: {last}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The node's status, fetched as `borough status` does.
    pub async fn status(&self) -> v1::StatusReply {
        borough_node::status::fetch(&self.config)
            .await
            .expect("status of a running node")
    }

    /// A channel to the node presenting its borough's `role` certificate
    /// (`system`, `admin` …).
    pub async fn connect_as(&self, role: &str) -> Result<Channel, borough_node::Error> {
        borough_node::client::connect_as(
            &self.config,
            &self.certs.join(format!("{role}.pem")),
            &self.certs.join(format!("{role}.key")),
        )
        .await
    }

    /// Crashes the node: SIGKILL (via `kill -KILL <pid>`), then reaps it and checks
    /// that the signal, not anything else, ended it.
    pub async fn kill(&mut self) {
        let pid = self.pid();
        self.signal("-KILL", pid);
        let status = self.wait_exit("SIGKILL").await;
        assert_eq!(
            status.signal(),
            Some(9),
            "{} (pid {pid}) was not ended by SIGKILL: {status}",
            self.borough
        );
    }

    /// Stops the node as an operator would (SIGTERM) and checks it exits cleanly.
    pub async fn stop(&mut self) {
        let pid = self.pid();
        self.signal("-TERM", pid);
        let status = self.wait_exit("SIGTERM").await;
        assert!(
            status.success(),
            "{} (pid {pid}) did not exit cleanly after SIGTERM: {status}; log tail:\n{}",
            self.borough,
            log_tail(&self.log)
        );
    }

    /// Starts the node again on the same configuration file and data directory,
    /// and waits until it answers status.
    pub async fn restart(&mut self) {
        self.spawn();
        self.wait_ready().await;
    }

    /// Opens the node's data directory; only while the node is not running.
    pub fn open_store(&self) -> Store {
        assert!(
            self.child.is_none(),
            "{}'s store is locked by its running process",
            self.borough
        );
        Store::open(&self.config.data_dir, self.borough).expect("open a stopped node's store")
    }

    fn signal(&self, signal: &str, pid: u32) {
        let sent = Command::new("kill")
            .arg(signal)
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill {signal} {pid} failed: {sent}");
    }

    async fn wait_exit(&mut self, after: &str) -> ExitStatus {
        let child = self.child.as_mut().expect("node process running");
        let pid = child.id();
        let deadline = Instant::now() + EXIT;
        loop {
            if let Some(status) = child.try_wait().expect("poll node process") {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {EXIT:?} waiting for {} (pid {pid}) to exit after {after}",
                    self.borough
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // `Child::kill` is SIGKILL on Unix; wait so no zombie outlives the test.
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- {} node log ({}) ---\n{}",
                self.borough,
                self.log.display(),
                log_tail(&self.log)
            );
        }
    }
}

/// The last lines of a node's log, for failure messages.
fn log_tail(path: &Path) -> String {
    use std::io::Read;
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// The inbound flow of `peer`'s `dataset` in a status reply, if listed.
pub fn inbound<'a>(
    reply: &'a v1::StatusReply,
    peer: &str,
    dataset: Dataset,
) -> Option<&'a v1::PeerFlow> {
    reply
        .inbound
        .iter()
        .find(|f| f.peer == peer && f.dataset == dataset.as_str())
}

/// The node's own `dataset` (log head and record count) in a status reply.
pub fn own(reply: &v1::StatusReply, dataset: Dataset) -> &v1::OwnDataset {
    reply
        .own
        .iter()
        .find(|d| d.dataset == dataset.as_str())
        .expect("own dataset listed in status")
}
