//! Preparing and running a node. `Node::prepare` loads and checks everything the
//! configuration names without side effects; `serve` runs the node on a listener
//! its caller has bound, until the caller's shutdown future completes.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use borough_analytics::{Analytics, DisclosureControl};
use borough_model::{Dataset, GssCode, LinkageKey, PerturbationKey};
use borough_proto::v1;
use borough_security::agreements::{self, AgreementBook};
use borough_security::tls::{self, Credentials, TrustAnchors};
use borough_store::{Store, StoreOptions};
use borough_sync::{ChangeFeed, FlowBoard, PeerLink, PeerTarget, Projection};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;
use tracing::{info, warn, Instrument};

use crate::accept::tls_incoming;
use crate::admin::AdminService;
use crate::gatekeeper::GatekeeperLayer;
use crate::ingest::IngestService;
use crate::query::QueryService;
use crate::{Error, NodeConfig};

/// A node whose configuration, certificates, keys and agreements have all been
/// loaded and checked. Preparing one creates and changes nothing.
pub struct Node {
    config: NodeConfig,
    /// The partnership linkage key, used only at the door to make pseudonyms.
    linkage_key: Arc<LinkageKey>,
    /// The partnership perturbation key, used only to give released figures their
    /// record keys; never logged, sent or stored.
    perturbation_key: Arc<PerturbationKey>,
    agreements: Arc<AgreementBook>,
    server_tls: Arc<rustls::ServerConfig>,
    /// One client configuration per peer, trusting only that peer's CA.
    peer_tls: HashMap<GssCode, Arc<rustls::ClientConfig>>,
}

impl Node {
    /// Loads and checks every file the configuration names.
    pub fn prepare(config: NodeConfig) -> Result<Node, Error> {
        let security = |key: &str| Error::security_at(&config.source, key);
        let mut anchors = TrustAnchors::new();
        anchors
            .insert(config.borough, &config.tls.ca)
            .map_err(security("tls.ca"))?;
        for (i, peer) in config.peers.iter().enumerate() {
            anchors
                .insert(peer.borough, &peer.ca)
                .map_err(security(&format!("peers[{i}].ca")))?;
        }
        let credentials = Credentials::load(&config.tls.cert, &config.tls.key).map_err(|e| {
            let key = Error::credentials_key(&e, &config.tls.key, "tls.cert", "tls.key");
            security(key)(e)
        })?;
        let server_tls =
            tls::server_config(&credentials, &anchors).map_err(security("tls.cert"))?;
        let mut peer_tls = HashMap::new();
        for (i, peer) in config.peers.iter().enumerate() {
            let client = tls::client_config(&credentials, peer.borough, &anchors)
                .map_err(security(&format!("peers[{i}]")))?;
            peer_tls.insert(peer.borough, client);
        }
        let linkage_key = borough_security::linkage::load_linkage_key(&config.linkage_key)
            .map_err(security("linkage_key"))?;
        let perturbation_key =
            borough_security::perturbation::load_perturbation_key(&config.perturbation_key)
                .map_err(security("perturbation_key"))?;
        let book = agreements::load_dir(&config.agreements_dir).map_err(|e| {
            Error::Agreement(format!(
                "{}: key `agreements`: {e}",
                config.source.display()
            ))
        })?;
        // An agreement naming a field its dataset does not have is a drafting error:
        // refuse to start rather than share something other than what was agreed.
        for agreement in book.for_node(config.borough) {
            for terms in &agreement.datasets {
                Projection::new(terms.dataset, &terms.fields).map_err(|e| {
                    Error::Agreement(format!(
                        "{}: datasets.{}.fields: {e}",
                        agreement.source.display(),
                        terms.dataset
                    ))
                })?;
            }
        }
        Ok(Node {
            config,
            linkage_key: Arc::new(linkage_key),
            perturbation_key: Arc::new(perturbation_key),
            agreements: Arc::new(book),
            server_tls,
            peer_tls,
        })
    }

    /// The configuration the node was prepared from.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The partnership perturbation key, for record keys in released figures.
    pub fn perturbation_key(&self) -> &Arc<PerturbationKey> {
        &self.perturbation_key
    }

    /// Binds the configured listen address, naming the config key if it fails.
    pub async fn bind(&self) -> Result<TcpListener, Error> {
        TcpListener::bind(self.config.listen)
            .await
            .map_err(|source| Error::Bind {
                file: self.config.source.clone(),
                address: self.config.listen,
                source,
            })
    }

    /// Opens (creating if new) the node's data directory.
    pub fn open_store(&self) -> Result<Store, Error> {
        let options = StoreOptions {
            cache_bytes: self.config.limits.store_cache_bytes,
        };
        Ok(Store::open_with(
            &self.config.data_dir,
            self.config.borough,
            options,
        )?)
    }

    /// One link per (peer, dataset) that the peer discloses to us under an agreement.
    fn peer_targets(&self) -> Vec<(PeerTarget, Arc<rustls::ClientConfig>)> {
        let me = self.config.borough;
        let mut targets = Vec::new();
        for peer in &self.config.peers {
            for dataset in Dataset::ALL {
                let Some((agreement, terms)) = self.agreements.covering(peer.borough, me, dataset)
                else {
                    continue;
                };
                let (Ok(projection), Some(tls)) = (
                    Projection::new(dataset, &terms.fields),
                    self.peer_tls.get(&peer.borough),
                ) else {
                    continue; // both were checked in `prepare`
                };
                targets.push((
                    PeerTarget {
                        peer: peer.borough,
                        address: peer.address.clone(),
                        dataset,
                        agreement: agreement.clone(),
                        projection,
                    },
                    tls.clone(),
                ));
            }
        }
        targets
    }
}

/// Runs `node` on `listener` until `shutdown` completes, then stops in order:
/// health goes NOT_SERVING, the listener closes, streams and links finish their
/// current batch, in-flight calls drain (within the grace period), and the store
/// is flushed.
pub async fn serve(
    node: Node,
    store: Store,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let me = node.config.borough;
    let limits = node.config.limits.clone();
    let span = tracing::info_span!("node", borough = %me);
    let stop = CancellationToken::new();
    let flows = FlowBoard::default();

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<v1::ingest_server::IngestServer<IngestService>>()
        .await;
    health
        .set_serving::<v1::replication_server::ReplicationServer<ChangeFeed>>()
        .await;
    health
        .set_serving::<v1::admin_server::AdminServer<AdminService>>()
        .await;
    health
        .set_serving::<v1::query_server::QueryServer<QueryService>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(borough_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| Error::Serve(format!("reflection: {e}")))?;
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(borough_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| Error::Serve(format!("reflection: {e}")))?;

    let max_message = limits.sync.max_message_bytes;
    let feed = ChangeFeed::new(
        store.clone(),
        node.agreements.clone(),
        flows.clone(),
        limits.sync.clone(),
        stop.clone(),
    );
    let replication = v1::replication_server::ReplicationServer::new(feed)
        .max_decoding_message_size(max_message)
        .max_encoding_message_size(max_message);
    let ingest = v1::ingest_server::IngestServer::new(IngestService::new(
        store.clone(),
        limits.max_ingest_batch,
        node.linkage_key.clone(),
    ))
    .max_decoding_message_size(max_message);
    let admin = v1::admin_server::AdminServer::new(AdminService::new(store.clone(), flows.clone()));
    let analytics = attach_analytics(&node, &store).await?;
    let query = v1::query_server::QueryServer::new(QueryService::new(
        analytics,
        store.clone(),
        flows.clone(),
        node.config.peers.iter().map(|p| p.borough).collect(),
        node.config.disclosure,
    ))
    .max_decoding_message_size(max_message)
    .max_encoding_message_size(max_message);

    let mut links = JoinSet::new();
    for (target, tls) in node.peer_targets() {
        let link = PeerLink::new(
            target,
            store.clone(),
            flows.clone(),
            tls,
            limits.sync.clone(),
            stop.clone(),
        );
        links.spawn(link.run().instrument(span.clone()));
    }

    links.spawn(
        crate::retention::run(
            store.clone(),
            node.agreements.clone(),
            node.config.peers.iter().map(|p| p.borough).collect(),
            limits.retention_check,
            stop.clone(),
        )
        .instrument(span.clone()),
    );

    let incoming = tls_incoming(listener, node.server_tls.clone(), &limits, stop.clone());
    // Outermost first: the gatekeeper sees every request before any service does.
    let router = Server::builder()
        .http2_keepalive_interval(Some(limits.sync.keepalive_interval))
        .http2_keepalive_timeout(Some(limits.sync.keepalive_interval))
        .max_concurrent_streams(Some(limits.max_concurrent_streams))
        .layer(GatekeeperLayer::new(me, store.clone()))
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(replication)
        .add_service(ingest)
        .add_service(admin)
        .add_service(query);

    let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(
        router
            .serve_with_incoming_shutdown(incoming, async {
                let _ = drain_rx.await;
            })
            .instrument(span.clone()),
    );
    info!(parent: &span, address = %node.config.listen, peers = node.config.peers.len(), "serving");

    let early = tokio::select! {
        _ = shutdown => None,
        r = &mut server => Some(r),
    };
    if let Some(result) = early {
        stop.cancel();
        return match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::Serve(e.to_string())),
            Err(e) => Err(Error::Serve(e.to_string())),
        };
    }

    info!(parent: &span, "shutting down");
    health
        .set_not_serving::<v1::ingest_server::IngestServer<IngestService>>()
        .await;
    health
        .set_not_serving::<v1::replication_server::ReplicationServer<ChangeFeed>>()
        .await;
    health
        .set_not_serving::<v1::admin_server::AdminServer<AdminService>>()
        .await;
    health
        .set_not_serving::<v1::query_server::QueryServer<QueryService>>()
        .await;
    stop.cancel();
    let _ = drain_tx.send(());
    let server_abort = server.abort_handle();
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        let served = server.await;
        while links.join_next().await.is_some() {}
        served
    })
    .await;
    let result = match drained {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(e))) => Err(Error::Serve(e.to_string())),
        Ok(Err(e)) => Err(Error::Serve(e.to_string())),
        Err(_) => {
            warn!(parent: &span, grace = ?limits.shutdown_grace, "shutdown grace period ran out; abandoning in-flight work");
            server_abort.abort();
            links.abort_all();
            Ok(())
        }
    };
    store.flush()?;
    info!(parent: &span, "stopped");
    result
}

/// Builds the analytical view from every record the store holds and keeps it in
/// step from then on; done before anything can write, off the async threads.
async fn attach_analytics(node: &Node, store: &Store) -> Result<Arc<Analytics>, Error> {
    let settings = node.config.disclosure;
    let control = DisclosureControl::new(settings.threshold, settings.rounding_base)
        .map_err(|e| Error::Serve(format!("disclosure: {e}")))?;
    let analytics = Arc::new(Analytics::new((*node.perturbation_key).clone(), control));
    let observer = analytics.clone();
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.observe(observer))
        .await
        .map_err(|e| Error::Serve(format!("building the analytical view: {e}")))??;
    Ok(analytics)
}
