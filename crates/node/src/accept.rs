//! The accept loop: every connection completes a TLS 1.3 handshake with a verified
//! client certificate before tonic sees it. Handshakes run concurrently, bounded,
//! and with a deadline, so a slow or hostile client cannot hold up the others.

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::Limits;

/// A stream of connections that have completed the handshake. It ends when `stop`
/// is cancelled.
pub(crate) fn tls_incoming(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    limits: &Limits,
    stop: CancellationToken,
) -> ReceiverStream<Result<TlsStream<TcpStream>, std::io::Error>> {
    // Holds handshaken connections until tonic takes them; tonic takes them as fast
    // as they arrive, so a small buffer is enough.
    let (tx, rx) = mpsc::channel(16);
    let acceptor = TlsAcceptor::from(tls);
    let permits = Arc::new(Semaphore::new(limits.max_handshakes));
    let timeout = limits.handshake_timeout;
    tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            // The permit is taken before accepting, so at most `max_handshakes` run.
            let permit = tokio::select! {
                p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
                _ = stop.cancelled() => break,
            };
            let (tcp, remote) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(conn) => { failures = 0; conn }
                    Err(e) => {
                        // Accept errors (out of file descriptors) are usually
                        // transient: wait, doubling, rather than spin or stop.
                        failures += 1;
                        let wait = std::time::Duration::from_millis(10 << failures.min(8));
                        warn!(error = %e, ?wait, "accept failed");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                },
                _ = stop.cancelled() => break,
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let _permit = permit;
                match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(tls)).await;
                    }
                    Ok(Err(e)) => tracing::info!(%remote, error = %e, "TLS handshake refused"),
                    Err(_) => debug!(%remote, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}
