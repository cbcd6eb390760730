//! Ceiling 1: raw rustls throughput over 127.0.0.1 with the nodes' own kind of TLS
//! (TLS 1.3, mutual authentication, per-borough CAs, the ring provider), with no
//! gRPC, HTTP/2, protobuf or storage on top. The server (Lambeth's node certificate)
//! writes, the client (Southwark's node certificate) reads, as in replication.

use std::time::{Duration, Instant};

use borough_model::{PeerIdentity, Role};
use borough_security::certs::{node_server_name, BoroughCa, Validity};
use borough_security::tls::{self, Credentials, TrustAnchors};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::records::{gss, LAMBETH, SOUTHWARK};

/// Size of each write the sender makes.
pub const WRITE_BYTES: usize = 64 * 1024;

/// What the loopback transfer measured.
#[derive(Debug, Clone)]
pub struct TlsCeiling {
    /// Application bytes sent and received.
    pub bytes: u64,
    /// Size of each write.
    pub write_bytes: usize,
    /// The TCP connect and mutual TLS 1.3 handshake, as the client saw it.
    pub handshake: Duration,
    /// From the client's handshake completing to it reading the last byte.
    pub elapsed: Duration,
}

impl TlsCeiling {
    /// Throughput in MB/s (10^6 bytes).
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64()
    }

    /// The records per second this throughput carries at `wire_record_bytes` each.
    pub fn records_per_s(&self, wire_record_bytes: f64) -> f64 {
        self.bytes as f64 / wire_record_bytes / self.elapsed.as_secs_f64()
    }
}

/// Certificates of the same kind `borough certs init` issues, held in memory.
struct Pki {
    server: std::sync::Arc<rustls::ServerConfig>,
    client: std::sync::Arc<rustls::ClientConfig>,
    server_name: ServerName<'static>,
}

fn pki() -> anyhow::Result<Pki> {
    let (lambeth, southwark) = (gss(LAMBETH)?, gss(SOUTHWARK)?);
    let mut anchors = TrustAnchors::new();
    let mut node = |borough| -> anyhow::Result<Credentials> {
        let ca = BoroughCa::generate(borough)?;
        anchors.insert_pem(borough, ca.cert_pem())?;
        let issued = ca.issue(
            &PeerIdentity {
                borough,
                role: Role::Node,
                name: None,
            },
            Validity::days_from_now(1),
        )?;
        Ok(Credentials::from_pem(&issued.cert_pem, &issued.key_pem)?)
    };
    let (lambeth_node, southwark_node) = (node(lambeth)?, node(southwark)?);
    Ok(Pki {
        server: tls::server_config(&lambeth_node, &anchors)?,
        client: tls::client_config(&southwark_node, lambeth, &anchors)?,
        server_name: ServerName::try_from(node_server_name(lambeth))?,
    })
}

/// Sends `bytes` (rounded up to whole writes) from a TLS server to a TLS client on
/// 127.0.0.1 in [`WRITE_BYTES`] writes, both ends on this runtime, Nagle off as on
/// the nodes' sockets.
pub async fn measure(bytes: u64) -> anyhow::Result<TlsCeiling> {
    let pki = pki()?;
    let writes = bytes.div_ceil(WRITE_BYTES as u64).max(1);
    let total = writes * WRITE_BYTES as u64;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let acceptor = TlsAcceptor::from(pki.server);
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let mut tls = acceptor.accept(tcp).await?;
        // Not all zeros, though AES-GCM does not care.
        let chunk: Vec<u8> = (0..WRITE_BYTES).map(|i| (i * 31 % 251) as u8).collect();
        for _ in 0..writes {
            tls.write_all(&chunk).await?;
        }
        tls.shutdown().await?;
        Ok::<_, std::io::Error>(())
    });

    let started = Instant::now();
    let tcp = TcpStream::connect(address).await?;
    tcp.set_nodelay(true)?;
    let mut tls = TlsConnector::from(pki.client)
        .connect(pki.server_name, tcp)
        .await?;
    let handshake = started.elapsed();
    let started = Instant::now();
    let mut buffer = vec![0u8; WRITE_BYTES];
    let mut received = 0u64;
    loop {
        match tls.read(&mut buffer).await {
            Ok(0) => break,
            Ok(n) => received += n as u64,
            // The server may close without waiting for our close_notify reply.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && received == total => break,
            Err(e) => return Err(e.into()),
        }
    }
    let elapsed = started.elapsed();
    server.await??;
    anyhow::ensure!(
        received == total,
        "TLS loopback: received {received} of {total} bytes"
    );
    Ok(TlsCeiling {
        bytes: received,
        write_bytes: WRITE_BYTES,
        handshake,
        elapsed,
    })
}
