//! The gatekeeper: the one place a request's identity is established and checked
//! against the role table before any service sees it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use borough_model::{GssCode, PeerIdentity};
use borough_security::authorise::{authorise, Permission};
use borough_security::identity::identity_from_cert;
use borough_store::{AuditAction, AuditEntry, AuditOutcome, Store};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::Status;
use tracing::{warn, Instrument};

/// Numbers requests so a log line can be tied to the call that caused it.
static NEXT_REQUEST_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Which permission each gRPC service needs. Health and reflection need only a
/// verified certificate; anything not listed is refused.
fn permission_for(path: &str) -> Option<Option<Permission>> {
    // Differentially private answers are a method of their own, for researchers.
    if path == "/borough.v1.Query/RunPrivate" {
        return Some(Some(Permission::QueryPrivately));
    }
    let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
    Some(match service {
        "borough.v1.Replication" => Some(Permission::Replicate),
        "borough.v1.Ingest" => Some(Permission::Ingest),
        "borough.v1.Admin" => Some(Permission::ReadStatus),
        "borough.v1.Query" => Some(Permission::Query),
        "grpc.health.v1.Health"
        | "grpc.reflection.v1.ServerReflection"
        | "grpc.reflection.v1alpha.ServerReflection" => None,
        _ => return None,
    })
}

/// A tower layer that puts the caller's `PeerIdentity` in request extensions, or
/// answers `PERMISSION_DENIED` (audited) when the role may not call the service.
#[derive(Clone)]
pub(crate) struct GatekeeperLayer {
    me: GssCode,
    store: Store,
}

impl GatekeeperLayer {
    pub(crate) fn new(me: GssCode, store: Store) -> Self {
        GatekeeperLayer { me, store }
    }
}

impl<S> tower::Layer<S> for GatekeeperLayer {
    type Service = Gatekeeper<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Gatekeeper {
            inner,
            gate: Arc::new(self.clone()),
        }
    }
}

/// The service produced by `GatekeeperLayer`.
#[derive(Clone)]
pub(crate) struct Gatekeeper<S> {
    inner: S,
    gate: Arc<GatekeeperLayer>,
}

impl GatekeeperLayer {
    fn admit<B>(&self, req: &http::Request<B>) -> Result<PeerIdentity, Status> {
        // The handshake already verified the chain against the CA of the borough
        // the certificate names; here it is only read.
        let identity = req
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(|info| info.peer_certs())
            .and_then(|certs| certs.first().map(|leaf| identity_from_cert(leaf)))
            .ok_or_else(|| Status::unauthenticated("no verified client certificate"))?
            .map_err(|e| Status::unauthenticated(e.to_string()))?;
        let path = req.uri().path();
        match permission_for(path) {
            Some(None) => Ok(identity),
            Some(Some(permission)) => match authorise(&identity, permission, self.me) {
                Ok(()) => Ok(identity),
                Err(denied) => Err(self.refuse(&identity, path, denied.to_string())),
            },
            None => Err(self.refuse(&identity, path, format!("no such service: {path}"))),
        }
    }

    fn refuse(&self, identity: &PeerIdentity, path: &str, reason: String) -> Status {
        warn!(caller = %identity, path, %reason, "refused");
        let entry = AuditEntry {
            at_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            actor: identity.to_string(),
            action: AuditAction::Refused,
            dataset: None,
            peer: (identity.borough != self.me).then_some(identity.borough),
            records: 0,
            outcome: AuditOutcome::Refused,
            detail: format!("{path}: {reason}"),
        };
        if let Err(e) = self.store.audit().append(entry) {
            tracing::error!(error = %e, "could not append to the audit log");
        }
        Status::permission_denied(reason)
    }
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for Gatekeeper<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let request_id = NEXT_REQUEST_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let span = tracing::info_span!(
            "request",
            borough = %self.gate.me,
            request_id,
            path = req.uri().path(),
            caller = tracing::field::Empty,
        );
        let _entered = span.enter();
        match self.gate.admit(&req) {
            Ok(identity) => {
                span.record("caller", tracing::field::display(&identity));
                req.extensions_mut().insert(identity);
                // The clone takes over readiness from `self.inner`, as tower requires.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(inner.call(req).instrument(span.clone()))
            }
            Err(status) => Box::pin(async move { Ok(status.into_http()) }),
        }
    }
}
