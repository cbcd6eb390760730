//! A federation of nodes on 127.0.0.1 in one folder: certificates, agreements,
//! configuration files and data directories, laid out exactly as an operator would
//! lay them out. The demo runs on it, and so do the end-to-end tests.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use borough_model::GssCode;
use borough_security::certs;
use borough_store::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{serve, Error, Node, NodeConfig};

/// One node of a local federation, running in this process.
pub struct RunningNode {
    /// Its configuration (loaded from the file written for it).
    pub config: NodeConfig,
    /// Its store, shared with the running node.
    pub store: Store,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), Error>>>,
}

impl RunningNode {
    /// Stops the node and waits for it to finish shutting down.
    pub async fn stop(&mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|e| Error::Serve(e.to_string()))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A set of boroughs' nodes laid out under one root folder.
pub struct LocalFederation {
    root: PathBuf,
    addresses: BTreeMap<GssCode, SocketAddr>,
    nodes: BTreeMap<GssCode, RunningNode>,
}

/// The path of a borough's node configuration inside a federation root.
pub fn config_path(root: &Path, borough: GssCode) -> PathBuf {
    root.join(format!("{borough}.toml"))
}

/// Writes a node configuration file for `borough` using the certificate layout of
/// `borough certs init` under `root/certs`, agreements under `root/agreements`,
/// and data under `root/data/<GSS>`. `extra` is appended verbatim (e.g. `[limits]`).
pub fn write_node_config(
    root: &Path,
    borough: GssCode,
    listen: SocketAddr,
    peers: &[(GssCode, SocketAddr)],
    extra: &str,
) -> Result<PathBuf, Error> {
    let mut text = format!(
        "# {name}'s node.\nborough = \"{borough}\"\nlisten = \"{listen}\"\ndata_dir = \"data/{borough}\"\nagreements = \"agreements\"\nlinkage_key = \"certs/linkage.key\"\nperturbation_key = \"certs/perturbation.key\"\n\n[tls]\nca = \"certs/{borough}/ca.pem\"\ncert = \"certs/{borough}/node.pem\"\nkey = \"certs/{borough}/node.key\"\n",
        name = borough.name()
    );
    for (peer, address) in peers {
        let _ = write!(
            text,
            "\n[[peers]]\n# {name}\nborough = \"{peer}\"\naddress = \"{address}\"\nca = \"certs/{peer}/ca.pem\"\n",
            name = peer.name()
        );
    }
    text.push_str(extra);
    let path = config_path(root, borough);
    std::fs::write(&path, text).map_err(|e| Error::Config {
        file: path.clone(),
        key: String::new(),
        problem: format!("cannot write: {e}"),
    })?;
    Ok(path)
}

impl LocalFederation {
    /// Issues certificates for `boroughs` under `root/certs`, writes `agreements`
    /// (file name, TOML text) under `root/agreements`, binds a port for each node on
    /// 127.0.0.1 and writes its configuration naming every other node as a peer.
    /// Nodes are not started: call `start`.
    pub async fn lay_out(
        root: &Path,
        boroughs: &[GssCode],
        agreements: &[(String, String)],
        extra_config: &str,
    ) -> Result<(LocalFederation, Vec<TcpListener>), Error> {
        let io = |path: &Path, e: std::io::Error| Error::Config {
            file: path.to_path_buf(),
            key: String::new(),
            problem: e.to_string(),
        };
        certs::init(&root.join("certs"), boroughs).map_err(|source| Error::Security {
            file: root.join("certs"),
            key: "certs init".into(),
            source: Box::new(source),
        })?;
        let agreements_dir = root.join("agreements");
        std::fs::create_dir_all(&agreements_dir).map_err(|e| io(&agreements_dir, e))?;
        for (name, text) in agreements {
            let path = agreements_dir.join(name);
            std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        }
        let mut listeners = Vec::new();
        let mut addresses = BTreeMap::new();
        for &b in boroughs {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| io(root, e))?;
            addresses.insert(b, listener.local_addr().map_err(|e| io(root, e))?);
            listeners.push(listener);
        }
        for &b in boroughs {
            let peers: Vec<_> = addresses
                .iter()
                .filter(|(p, _)| **p != b)
                .map(|(p, a)| (*p, *a))
                .collect();
            write_node_config(root, b, addresses[&b], &peers, extra_config)?;
        }
        Ok((
            LocalFederation {
                root: root.to_path_buf(),
                addresses,
                nodes: BTreeMap::new(),
            },
            listeners,
        ))
    }

    /// Lays out and starts every node.
    pub async fn start(
        root: &Path,
        boroughs: &[GssCode],
        agreements: &[(String, String)],
        extra_config: &str,
    ) -> Result<LocalFederation, Error> {
        let (mut federation, listeners) =
            LocalFederation::lay_out(root, boroughs, agreements, extra_config).await?;
        for (&b, listener) in boroughs.iter().zip(listeners) {
            federation.launch(b, listener)?;
        }
        Ok(federation)
    }

    /// Starts a borough's node from its configuration file on `listener`.
    pub fn launch(&mut self, borough: GssCode, listener: TcpListener) -> Result<(), Error> {
        let config = NodeConfig::load(&config_path(&self.root, borough))?;
        let node = Node::prepare(config.clone())?;
        let store = node.open_store()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(node, store.clone(), listener, async {
            let _ = stop_rx.await;
        }));
        self.nodes.insert(
            borough,
            RunningNode {
                config,
                store,
                stop: Some(stop_tx),
                task: Some(task),
            },
        );
        Ok(())
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every borough's node address.
    pub fn addresses(&self) -> &BTreeMap<GssCode, SocketAddr> {
        &self.addresses
    }

    /// A running node, if that borough is running.
    pub fn node(&self, borough: GssCode) -> Option<&RunningNode> {
        self.nodes.get(&borough)
    }

    /// The configuration file path of a borough's node.
    pub fn config_path(&self, borough: GssCode) -> PathBuf {
        config_path(&self.root, borough)
    }

    /// Stops one node and waits for it; its data directory stays.
    pub async fn stop(&mut self, borough: GssCode) -> Result<(), Error> {
        match self.nodes.remove(&borough) {
            Some(mut node) => node.stop().await,
            None => Ok(()),
        }
    }

    /// Starts a stopped node again on its old address with its old data directory.
    pub async fn restart(&mut self, borough: GssCode) -> Result<(), Error> {
        let address = self.addresses[&borough];
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| Error::Bind {
                file: self.config_path(borough),
                address,
                source,
            })?;
        self.launch(borough, listener)
    }

    /// Stops every node, waiting for each.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        let boroughs: Vec<_> = self.nodes.keys().copied().collect();
        for b in boroughs {
            self.stop(b).await?;
        }
        Ok(())
    }
}
