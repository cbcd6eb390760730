//! Node configuration: one TOML file per node. Every error names the file, the key
//! and the problem, and nothing is created or changed until the whole file is good.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use borough_analytics::disclosure::{MAX_BUDGET_MICROS, MAX_QUERY_EPSILON_MICROS};
use borough_analytics::disclosure::{MIN_ROUNDING_BASE, MIN_THRESHOLD};
use borough_model::GssCode;
use borough_sync::SyncLimits;
use serde::Deserialize;

use crate::Error;

/// A node's validated configuration. Paths are resolved against the file's folder.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The file this came from.
    pub source: PathBuf,
    /// This node's borough.
    pub borough: GssCode,
    /// Address the gRPC listener binds.
    pub listen: SocketAddr,
    /// The sled data directory.
    pub data_dir: PathBuf,
    /// Folder of agreement files (`*.toml`).
    pub agreements_dir: PathBuf,
    /// The partnership linkage key file (pseudonyms); mode 0600.
    pub linkage_key: PathBuf,
    /// The partnership perturbation key file (record keys for cell-key
    /// perturbation of released figures); mode 0600.
    pub perturbation_key: PathBuf,
    /// This node's CA, certificate and key.
    pub tls: TlsFiles,
    /// The pinned peers.
    pub peers: Vec<PeerConfig>,
    /// Bounds on queues, batches and waits.
    pub limits: Limits,
    /// Certificates the CLI uses to call this node (`borough status`).
    pub tools: ToolFiles,
    /// How strictly released figures are protected.
    pub disclosure: DisclosureSettings,
}

/// Disclosure control for the figures this node releases (`[disclosure]`). Each
/// setting may be made stricter than the partnership's minimum, never looser: a
/// configuration below a minimum is refused when it loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisclosureSettings {
    /// Counts of fewer persons than this are suppressed, never released. At least
    /// (and by default) [`MIN_THRESHOLD`].
    pub threshold: u64,
    /// Released counts are rounded to a multiple of this. At least (and by default)
    /// [`MIN_ROUNDING_BASE`].
    pub rounding_base: u64,
    /// Each researcher's lifetime differential-privacy budget, in millionths of
    /// ε. At most (and by default) [`MAX_BUDGET_MICROS`].
    pub privacy_budget_micros: u64,
    /// The most one differentially private answer may spend, in millionths of ε.
    /// At most (and by default) [`MAX_QUERY_EPSILON_MICROS`].
    pub max_query_epsilon_micros: u64,
}

impl Default for DisclosureSettings {
    fn default() -> Self {
        DisclosureSettings {
            threshold: MIN_THRESHOLD,
            rounding_base: MIN_ROUNDING_BASE,
            privacy_budget_micros: MAX_BUDGET_MICROS,
            max_query_epsilon_micros: MAX_QUERY_EPSILON_MICROS,
        }
    }
}

/// Paths of a node's own trust material.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// This borough's CA certificate: issues this node's and its users' identities.
    pub ca: PathBuf,
    /// This node's certificate chain.
    pub cert: PathBuf,
    /// This node's private key (must not be readable by other users).
    pub key: PathBuf,
}

/// A peer borough pinned by GSS code, address and CA.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The peer's borough.
    pub borough: GssCode,
    /// The peer node's `host:port`.
    pub address: String,
    /// The CA that alone may issue that borough's identities.
    pub ca: PathBuf,
}

/// Certificates the command-line tools present to this node.
#[derive(Debug, Clone)]
pub struct ToolFiles {
    /// Admin certificate for `borough status`.
    pub admin_cert: PathBuf,
    /// Its key.
    pub admin_key: PathBuf,
    /// System certificate for `borough import` and `borough erase`.
    pub system_cert: PathBuf,
    /// Its key.
    pub system_key: PathBuf,
    /// Analyst certificate for `borough query`.
    pub analyst_cert: PathBuf,
    /// Its key.
    pub analyst_key: PathBuf,
    /// Researcher certificate for `borough query --epsilon` (differentially
    /// private answers).
    pub researcher_cert: PathBuf,
    /// Its key.
    pub researcher_key: PathBuf,
}

/// Every bound a node works within.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Replication bounds.
    pub sync: SyncLimits,
    /// The most operations one ingest batch may carry.
    pub max_ingest_batch: usize,
    /// Concurrent TLS handshakes in progress; further connections wait in the
    /// kernel's accept queue.
    pub max_handshakes: usize,
    /// How long a TLS handshake may take before the connection is dropped.
    pub handshake_timeout: Duration,
    /// Concurrent requests per connection.
    pub max_concurrent_streams: u32,
    /// How long shutdown waits for in-flight work before abandoning it.
    pub shutdown_grace: Duration,
    /// How often replicas are checked against their agreement's retention period.
    pub retention_check: Duration,
    /// The most memory the store's page cache may use, in bytes.
    pub store_cache_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sync: SyncLimits::default(),
            max_ingest_batch: 10_000,
            max_handshakes: 64,
            handshake_timeout: Duration::from_secs(10),
            max_concurrent_streams: 256,
            shutdown_grace: Duration::from_secs(10),
            retention_check: Duration::from_secs(3600),
            store_cache_bytes: borough_store::StoreOptions::DEFAULT_CACHE_BYTES,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    borough: String,
    listen: String,
    data_dir: PathBuf,
    agreements: PathBuf,
    linkage_key: PathBuf,
    perturbation_key: PathBuf,
    tls: TlsSection,
    #[serde(default)]
    peers: Vec<PeerSection>,
    #[serde(default)]
    limits: LimitsSection,
    #[serde(default)]
    tools: ToolsSection,
    #[serde(default)]
    disclosure: DisclosureSection,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DisclosureSection {
    threshold: Option<u64>,
    rounding_base: Option<u64>,
    privacy_budget_micros: Option<u64>,
    max_query_epsilon_micros: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsSection {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerSection {
    borough: String,
    address: String,
    ca: PathBuf,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ToolsSection {
    admin_cert: Option<PathBuf>,
    admin_key: Option<PathBuf>,
    system_cert: Option<PathBuf>,
    system_key: Option<PathBuf>,
    analyst_cert: Option<PathBuf>,
    analyst_key: Option<PathBuf>,
    researcher_cert: Option<PathBuf>,
    researcher_key: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    batch_size: Option<usize>,
    stream_buffer: Option<usize>,
    max_message_bytes: Option<usize>,
    max_ingest_batch: Option<usize>,
    connect_timeout_ms: Option<u64>,
    backoff_min_ms: Option<u64>,
    backoff_max_ms: Option<u64>,
    keepalive_interval_ms: Option<u64>,
    max_handshakes: Option<usize>,
    handshake_timeout_ms: Option<u64>,
    max_concurrent_streams: Option<u32>,
    shutdown_grace_ms: Option<u64>,
    retention_check_ms: Option<u64>,
    store_cache_mib: Option<u64>,
}

impl NodeConfig {
    /// Reads and checks a configuration file. Referenced files are checked later,
    /// when the node is prepared.
    pub fn load(path: &Path) -> Result<NodeConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            file: path.to_path_buf(),
            key: String::new(),
            problem: format!("cannot read the file: {e}"),
        })?;
        NodeConfig::parse(path, &text)
    }

    /// Checks configuration text as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<NodeConfig, Error> {
        let bad = |key: &str, problem: String| Error::Config {
            file: path.to_path_buf(),
            key: key.to_string(),
            problem,
        };
        let file: ConfigFile = toml::from_str(text).map_err(|e| {
            // toml's message already names the line, column and key.
            bad("", e.to_string().trim_end().replace('\n', " "))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Path| -> PathBuf {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let borough = GssCode::parse(&file.borough).map_err(|e| bad("borough", e.to_string()))?;
        let listen: SocketAddr = file.listen.parse().map_err(|_| {
            bad(
                "listen",
                format!(
                    "`{}` is not an address of the form 127.0.0.1:7401",
                    file.listen
                ),
            )
        })?;
        let mut peers = Vec::with_capacity(file.peers.len());
        let mut seen = BTreeSet::new();
        for (i, p) in file.peers.iter().enumerate() {
            let key = |k: &str| format!("peers[{i}].{k}");
            let peer =
                GssCode::parse(&p.borough).map_err(|e| bad(&key("borough"), e.to_string()))?;
            if peer == borough {
                return Err(bad(
                    &key("borough"),
                    format!("{peer} is this node's own borough"),
                ));
            }
            if !seen.insert(peer) {
                return Err(bad(
                    &key("borough"),
                    format!("{peer} ({}) is listed more than once", peer.name()),
                ));
            }
            if p.address.trim().is_empty() || !p.address.contains(':') {
                return Err(bad(
                    &key("address"),
                    format!("`{}` is not a host:port address", p.address),
                ));
            }
            peers.push(PeerConfig {
                borough: peer,
                address: p.address.clone(),
                ca: resolve(&p.ca),
            });
        }
        let limits =
            limits(&file.limits).map_err(|(k, problem)| bad(&format!("limits.{k}"), problem))?;
        let disclosure = disclosure(&file.disclosure)
            .map_err(|(k, problem)| bad(&format!("disclosure.{k}"), problem))?;
        let cert = resolve(&file.tls.cert);
        let cert_dir = cert.parent().map(Path::to_path_buf).unwrap_or_default();
        // Tool certificates default to the files `borough certs init` puts beside
        // the node's own certificate.
        let tool = |given: &Option<PathBuf>, default: &str| {
            given
                .as_deref()
                .map(resolve)
                .unwrap_or_else(|| cert_dir.join(default))
        };
        let tools = ToolFiles {
            admin_cert: tool(&file.tools.admin_cert, "admin.pem"),
            admin_key: tool(&file.tools.admin_key, "admin.key"),
            system_cert: tool(&file.tools.system_cert, "system.pem"),
            system_key: tool(&file.tools.system_key, "system.key"),
            analyst_cert: tool(&file.tools.analyst_cert, "analyst.pem"),
            analyst_key: tool(&file.tools.analyst_key, "analyst.key"),
            researcher_cert: tool(&file.tools.researcher_cert, "researcher.pem"),
            researcher_key: tool(&file.tools.researcher_key, "researcher.key"),
        };
        Ok(NodeConfig {
            source: path.to_path_buf(),
            borough,
            listen,
            data_dir: resolve(&file.data_dir),
            agreements_dir: resolve(&file.agreements),
            linkage_key: resolve(&file.linkage_key),
            perturbation_key: resolve(&file.perturbation_key),
            tls: TlsFiles {
                ca: resolve(&file.tls.ca),
                cert,
                key: resolve(&file.tls.key),
            },
            peers,
            limits,
            tools,
            disclosure,
        })
    }

    /// The configured peer with this borough, if any.
    pub fn peer(&self, borough: GssCode) -> Option<&PeerConfig> {
        self.peers.iter().find(|p| p.borough == borough)
    }
}

/// Each disclosure setting, defaulting to and no looser than its minimum.
fn disclosure(s: &DisclosureSection) -> Result<DisclosureSettings, (&'static str, String)> {
    let at_least = |name: &'static str, v: Option<u64>, min: u64| match v {
        Some(v) if v < min => Err((
            name,
            format!(
                "{v} is looser than the minimum {min}; disclosure control can be made \
                 stricter, never looser"
            ),
        )),
        Some(v) => Ok(v),
        None => Ok(min),
    };
    let at_most = |name: &'static str, v: Option<u64>, max: u64| match v {
        Some(v) if v > max => Err((
            name,
            format!(
                "{v} is looser than the maximum {max}; disclosure control can be made \
                 stricter, never looser"
            ),
        )),
        Some(v) => Ok(v),
        None => Ok(max),
    };
    Ok(DisclosureSettings {
        threshold: at_least("threshold", s.threshold, MIN_THRESHOLD)?,
        rounding_base: at_least("rounding_base", s.rounding_base, MIN_ROUNDING_BASE)?,
        privacy_budget_micros: at_most(
            "privacy_budget_micros",
            s.privacy_budget_micros,
            MAX_BUDGET_MICROS,
        )?,
        max_query_epsilon_micros: at_most(
            "max_query_epsilon_micros",
            s.max_query_epsilon_micros,
            MAX_QUERY_EPSILON_MICROS,
        )?,
    })
}

/// The largest store cache a configuration may ask for, in MiB.
const MAX_STORE_CACHE_MIB: u64 = 1024 * 1024;

fn limits(s: &LimitsSection) -> Result<Limits, (&'static str, String)> {
    let d = Limits::default();
    let positive = |name: &'static str, v: Option<usize>, default: usize| match v {
        Some(0) => Err((name, "must be at least 1".to_string())),
        Some(v) => Ok(v),
        None => Ok(default),
    };
    let ms = |name: &'static str, v: Option<u64>, default: Duration| match v {
        Some(0) => Err((name, "must be at least 1 millisecond".to_string())),
        Some(v) => Ok(Duration::from_millis(v)),
        None => Ok(default),
    };
    let sync = SyncLimits {
        batch_size: positive("batch_size", s.batch_size, d.sync.batch_size)?,
        stream_buffer: positive("stream_buffer", s.stream_buffer, d.sync.stream_buffer)?,
        max_message_bytes: positive(
            "max_message_bytes",
            s.max_message_bytes,
            d.sync.max_message_bytes,
        )?,
        connect_timeout: ms(
            "connect_timeout_ms",
            s.connect_timeout_ms,
            d.sync.connect_timeout,
        )?,
        backoff_min: ms("backoff_min_ms", s.backoff_min_ms, d.sync.backoff_min)?,
        backoff_max: ms("backoff_max_ms", s.backoff_max_ms, d.sync.backoff_max)?,
        keepalive_interval: ms(
            "keepalive_interval_ms",
            s.keepalive_interval_ms,
            d.sync.keepalive_interval,
        )?,
    };
    if sync.backoff_max < sync.backoff_min {
        return Err((
            "backoff_max_ms",
            "must not be less than backoff_min_ms".into(),
        ));
    }
    Ok(Limits {
        sync,
        max_ingest_batch: positive("max_ingest_batch", s.max_ingest_batch, d.max_ingest_batch)?,
        max_handshakes: positive("max_handshakes", s.max_handshakes, d.max_handshakes)?,
        handshake_timeout: ms(
            "handshake_timeout_ms",
            s.handshake_timeout_ms,
            d.handshake_timeout,
        )?,
        max_concurrent_streams: match s.max_concurrent_streams {
            Some(0) => return Err(("max_concurrent_streams", "must be at least 1".into())),
            Some(v) => v,
            None => d.max_concurrent_streams,
        },
        shutdown_grace: ms("shutdown_grace_ms", s.shutdown_grace_ms, d.shutdown_grace)?,
        retention_check: ms(
            "retention_check_ms",
            s.retention_check_ms,
            d.retention_check,
        )?,
        store_cache_bytes: match s.store_cache_mib {
            Some(0) => return Err(("store_cache_mib", "must be at least 1".into())),
            Some(mib) if mib > MAX_STORE_CACHE_MIB => {
                return Err((
                    "store_cache_mib",
                    format!("must be at most {MAX_STORE_CACHE_MIB} (1 TiB)"),
                ))
            }
            Some(mib) => mib * 1024 * 1024,
            None => d.store_cache_bytes,
        },
    })
}

#[cfg(test)]
mod tests;
