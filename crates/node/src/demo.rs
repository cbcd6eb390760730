//! `borough demo`: a complete three-borough federation on 127.0.0.1 in a temporary
//! folder — fresh certificates, the example agreements, sample records ingested at
//! each borough through the real Ingest RPC, replication to convergence, and the two
//! refusals an operator should see (an unknown CA, a flow no agreement allows).

use std::future::Future;
use std::io::Write;
use std::time::{Duration, Instant};

use borough_model::{Dataset, Geography, GssCode, PeerIdentity, ProviderType, Role};
use borough_proto::{input_any, v1};
use borough_security::certs::{node_server_name, BoroughCa, Validity};
use borough_security::tls::{self, Credentials, TrustAnchors};
use borough_sync::{dial, status_text, SyncLimits};

use rustls::pki_types::ServerName;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::client::connect_as;
use crate::federation::LocalFederation;
use crate::status::{local_address, Table};
use crate::Error;

/// Lambeth, Southwark and Lewisham: the founding three.
pub const FOUNDING_BOROUGHS: [&str; 3] = ["E09000022", "E09000028", "E09000023"];

/// The example agreements shipped in `config/agreements`, used as they are.
pub const EXAMPLE_AGREEMENTS: [(&str, &str); 3] = [
    (
        "lambeth-southwark.toml",
        include_str!("../../../config/agreements/lambeth-southwark.toml"),
    ),
    (
        "lambeth-lewisham.toml",
        include_str!("../../../config/agreements/lambeth-lewisham.toml"),
    ),
    (
        "southwark-lewisham.toml",
        include_str!("../../../config/agreements/southwark-lewisham.toml"),
    ),
];

/// How the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Sample provider records ingested at each borough.
    pub records_per_borough: usize,
    /// Keep the nodes running after the demo until the shutdown future completes.
    pub keep: bool,
    /// How long to wait for convergence before giving up.
    pub converge_within: Duration,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            records_per_borough: 60,
            keep: false,
            converge_within: Duration::from_secs(30),
        }
    }
}

/// Deterministic sample providers for a borough, as its Family Information Service
/// would send them (identifiable input, keyed by the service's own reference): a mix
/// of nurseries and home-based settings, each placed in the borough by a real
/// postcode (Lewisham) or by one of the borough's LSOAs.
pub fn sample_providers(borough: GssCode, count: usize) -> Vec<(String, v1::ProviderInput)> {
    let b = borough.borough();
    let geography = Geography::bundled();
    let lsoas = geography.lsoas_in(borough);
    let postcodes: Vec<String> = geography
        .postcodes()
        .filter(|(_, place)| place.borough == borough && !place.terminated)
        .map(|(p, _)| p.as_str().to_string())
        .collect();
    let mut rng = SplitMix(u64::from(b.dfe_la_code) * 7919);
    (0..count)
        .map(|i| {
            let lat = b.lat + rng.between(-0.012, 0.012);
            let long = b.long + rng.between(-0.015, 0.015);
            let provider_type = match rng.below(20) {
                0..=9 => ProviderType::NonDomesticPremises,
                10..=16 => ProviderType::Childminder,
                17..=18 => ProviderType::DomesticPremises,
                _ => ProviderType::HomeChildcarer,
            };
            let (postcode, lsoa) = if postcodes.is_empty() {
                let lsoa = lsoas[rng.below(lsoas.len() as u64) as usize];
                // No open postcode lookup exists for this borough: the LSOA places it.
                (
                    format!(
                        "{}{} {}AA",
                        b.short_code.chars().next().unwrap_or('W'),
                        1 + rng.below(9),
                        1 + rng.below(9)
                    ),
                    lsoa.to_string(),
                )
            } else {
                (
                    postcodes[rng.below(postcodes.len() as u64) as usize].clone(),
                    String::new(),
                )
            };
            let bands: &[&str] = match provider_type {
                ProviderType::NonDomesticPremises => &["under-2", "2", "3-4"],
                _ => &["2", "3-4"],
            };
            let offers = bands
                .iter()
                .map(|&band| {
                    let capacity = match provider_type {
                        ProviderType::NonDomesticPremises => 8 + rng.below(30),
                        _ => 1 + rng.below(3),
                    };
                    let term_time = rng.below(3) == 0;
                    v1::OfferInput {
                        age_band: band.into(),
                        days: "Mon-Fri".into(),
                        opens: if term_time { "09:00" } else { "08:00" }.into(),
                        closes: if term_time { "15:00" } else { "18:00" }.into(),
                        term_time_only: if term_time { "yes" } else { "no" }.into(),
                        capacity: capacity.to_string(),
                        vacancies: rng.below(capacity / 3 + 1).to_string(),
                        funded: match band {
                            "2" => "disadvantaged-2;working-parent",
                            "3-4" => "universal-15;working-parent",
                            _ => "working-parent",
                        }
                        .into(),
                        fee_per_hour: format!("{:.2}", 7.80 + rng.below(150) as f64 / 100.0),
                    }
                })
                .collect();
            let grades = [
                "outstanding",
                "good",
                "good",
                "good",
                "requires-improvement",
                "not-yet-inspected",
            ];
            let input = v1::ProviderInput {
                provider_urn: match provider_type {
                    ProviderType::Childminder => String::new(),
                    _ => format!("EY{:06}", 400_000 + rng.below(99_999)),
                },
                provider_name: format!("Sample Provider {}", i + 1),
                provider_type: provider_type.as_str().into(),
                ofsted_grade: grades[rng.below(grades.len() as u64) as usize].into(),
                address: format!("{} Example Street", 1 + rng.below(200)),
                postcode,
                lsoa,
                lat: format!("{lat:.5}"),
                long: format!("{long:.5}"),
                send_support: if rng.below(3) > 0 { "yes" } else { "no" }.into(),
                accepts_out_of_borough: if rng.below(5) > 0 { "yes" } else { "no" }.into(),
                admission_priorities: "looked-after;ehc-plan;sibling;distance".into(),
                offers,
            };
            (
                format!("fis-{}-{:05}", b.short_code.to_lowercase(), i + 1),
                input,
            )
        })
        .collect()
}

/// A small deterministic generator, so the sample is the same on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn boroughs() -> Vec<GssCode> {
    FOUNDING_BOROUGHS
        .iter()
        .filter_map(|g| GssCode::parse(g).ok())
        .collect()
}

/// Runs the demo, writing what happens to `out`. With `keep`, waits for
/// `shutdown` before stopping the nodes.
pub async fn run(
    options: DemoOptions,
    out: &mut (impl Write + Send),
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let started = Instant::now();
    let root = tempfile::Builder::new()
        .prefix("borough-demo-")
        .tempdir()
        .map_err(|e| Error::Demo(format!("cannot create a temporary folder: {e}")))?;
    let boroughs = boroughs();
    let agreements: Vec<(String, String)> = EXAMPLE_AGREEMENTS
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let say = |out: &mut (dyn Write + Send), line: String| {
        let _ = writeln!(out, "{line}");
    };
    say(
        out,
        format!(
            "borough-net demo: {} boroughs on 127.0.0.1, working in {}",
            boroughs.len(),
            root.path().display()
        ),
    );
    let federation = LocalFederation::start(root.path(), &boroughs, &agreements, "").await?;
    for (b, a) in federation.addresses() {
        say(
            out,
            format!(
                "  {:<10} {b}  listening on {a} (TLS 1.3, client certificate required)",
                b.name()
            ),
        );
    }

    say(
        out,
        format!(
            "\ningesting {} sample childcare providers at each borough (role: system)",
            options.records_per_borough
        ),
    );
    for &b in &boroughs {
        let ack = ingest_samples(&federation, b, options.records_per_borough).await?;
        say(
            out,
            format!(
                "  {:<10} written {:>4}, log head {}",
                b.name(),
                ack.written,
                ack.head_seq
            ),
        );
    }

    say(
        out,
        "\nwaiting for every agreed flow to converge ...".into(),
    );
    let converged = wait_for_convergence(&federation, &boroughs, options.converge_within).await?;
    // One row per (borough, dataset): own records, then what each peer's flow
    // holds, or "not agreed" where no agreement lets that peer send it.
    let mut table = Table::new(&[
        "borough",
        "dataset",
        "own",
        "from Lambeth",
        "from Southwark",
        "from Lewisham",
        "lag",
    ]);
    for (b, reply) in &converged {
        for dataset in Dataset::ALL {
            let own = reply
                .own
                .iter()
                .find(|d| d.dataset == dataset.as_str())
                .map_or(0, |d| d.records);
            let mut cells = vec![b.name().to_string(), dataset.to_string(), own.to_string()];
            let mut lag = 0;
            for peer in &boroughs {
                if peer == b {
                    cells.push("-".into());
                    continue;
                }
                let flow = reply
                    .inbound
                    .iter()
                    .find(|f| f.peer == peer.to_string() && f.dataset == dataset.as_str());
                cells.push(match flow {
                    Some(f) => {
                        lag += f.lag_records;
                        f.records.to_string()
                    }
                    None => "not agreed".into(),
                });
            }
            cells.push(lag.to_string());
            table.row(cells);
        }
    }
    say(
        out,
        format!(
            "converged in {:.1}s\n\n{}",
            started.elapsed().as_secs_f64(),
            table.render()
        ),
    );

    say(out, "refusals an operator should see:".into());
    let lambeth = boroughs[0];
    say(
        out,
        format!(
            "  1. a certificate from an unknown CA (named like {0}'s CA, but another key), calling {0}:",
            lambeth.name()
        ),
    );
    say(
        out,
        format!("     {}", unknown_ca_attempt(&federation, lambeth).await),
    );
    let (southwark, lewisham) = (boroughs[1], boroughs[2]);
    let _ = southwark;
    say(
        out,
        format!(
            "  2. {}'s node asking {} for employment-participation (their agreement covers childcare only):",
            lewisham.name(),
            lambeth.name()
        ),
    );
    say(
        out,
        format!(
            "     {}",
            outside_agreement_attempt(
                &federation,
                lewisham,
                lambeth,
                Dataset::EmploymentParticipation
            )
            .await
        ),
    );

    if options.keep {
        let lambeth_addr = federation.addresses()[&lambeth];
        say(out, format!(
            "\nthe nodes keep running (Ctrl-C to stop). Certificates: {certs}\n\
             list the API of Lambeth's node:\n  grpcurl -cacert {certs}/{lambeth}/ca.pem -cert {certs}/{lambeth}/admin.pem -key {certs}/{lambeth}/admin.key {lambeth_addr} list\n\
             its status:\n  grpcurl -cacert {certs}/{lambeth}/ca.pem -cert {certs}/{lambeth}/admin.pem -key {certs}/{lambeth}/admin.key {lambeth_addr} borough.v1.Admin/Status\n\
             or: borough status --config {config}",
            certs = root.path().join("certs").display(),
            config = federation.config_path(lambeth).display(),
        ));
        let _ = out.flush();
        shutdown.await;
    }
    federation.shutdown().await?;
    say(
        out,
        format!(
            "\nall nodes stopped cleanly; removed {} ({:.1}s in all)",
            root.path().display(),
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(())
}

async fn ingest_samples(
    federation: &LocalFederation,
    borough: GssCode,
    count: usize,
) -> Result<v1::IngestAck, Error> {
    let node = federation
        .node(borough)
        .ok_or_else(|| Error::Demo(format!("{borough} is not running")))?;
    let certs = federation.root().join("certs").join(borough.to_string());
    let channel = connect_as(
        &node.config,
        &certs.join("system.pem"),
        &certs.join("system.key"),
    )
    .await?;
    let ops = sample_providers(borough, count)
        .into_iter()
        .map(|(local_ref, input)| v1::IngestOp {
            local_ref,
            op: Some(v1::ingest_op::Op::Upsert(input_any(
                Dataset::ChildcarePlaces,
                &input,
            ))),
        })
        .collect();
    let batch = v1::IngestBatch {
        dataset: Dataset::ChildcarePlaces.as_str().into(),
        ops,
        batch_ref: "demo".into(),
    };
    v1::ingest_client::IngestClient::new(channel)
        .apply(batch)
        .await
        .map(|r| r.into_inner())
        .map_err(|s| Error::Demo(format!("ingest at {borough} failed: {}", s.message())))
}

/// Polls each node's status until every inbound flow is connected with no lag and
/// holds as many records as the origin has, or the deadline passes.
async fn wait_for_convergence(
    federation: &LocalFederation,
    boroughs: &[GssCode],
    within: Duration,
) -> Result<Vec<(GssCode, v1::StatusReply)>, Error> {
    let deadline = Instant::now() + within;
    loop {
        let mut replies = Vec::new();
        for &b in boroughs {
            let node = federation
                .node(b)
                .ok_or_else(|| Error::Demo(format!("{b} is not running")))?;
            replies.push((b, crate::status::fetch(&node.config).await?));
        }
        // A flow has converged when it holds as many records as its origin has of
        // that dataset and is not behind the origin's log.
        let own_count = |origin: &str, dataset: &str| -> u64 {
            replies
                .iter()
                .find(|(b, _)| b.to_string() == origin)
                .and_then(|(_, r)| r.own.iter().find(|d| d.dataset == dataset))
                .map(|d| d.records)
                .unwrap_or(0)
        };
        let done = replies.iter().all(|(_, r)| {
            r.inbound.iter().all(|f| {
                f.connection == "connected"
                    && f.lag_records == 0
                    && f.records == own_count(&f.peer, &f.dataset)
            })
        });
        if done {
            return Ok(replies);
        }
        if Instant::now() > deadline {
            let summary: Vec<String> = replies
                .iter()
                .flat_map(|(b, r)| {
                    r.inbound.iter().map(move |f| {
                        format!(
                            "{b}<-{}: {} lag {} {}",
                            f.peer, f.connection, f.lag_records, f.last_error
                        )
                    })
                })
                .collect();
            return Err(Error::Demo(format!(
                "the federation did not converge within {within:?}: {}",
                summary.join("; ")
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Connects to a node with an admin certificate from a CA no node trusts, and
/// reports the node's verdict. In TLS 1.3 the server judges the client certificate
/// after the client has sent its last handshake message, so the refusal arrives as
/// an alert on the first read.
async fn unknown_ca_attempt(federation: &LocalFederation, target: GssCode) -> String {
    let attempt = async {
        let stranger = BoroughCa::generate(target).map_err(|e| e.to_string())?;
        let identity = PeerIdentity {
            borough: target,
            role: Role::Admin,
            name: Some("intruder".into()),
        };
        let issued = stranger
            .issue(&identity, Validity::days_from_now(1))
            .map_err(|e| e.to_string())?;
        let credentials =
            Credentials::from_pem(&issued.cert_pem, &issued.key_pem).map_err(|e| e.to_string())?;
        let mut anchors = TrustAnchors::new();
        let ca = federation
            .root()
            .join("certs")
            .join(target.to_string())
            .join("ca.pem");
        anchors.insert(target, &ca).map_err(|e| e.to_string())?;
        let tls =
            tls::user_client_config(&credentials, target, &anchors).map_err(|e| e.to_string())?;
        let address = local_address(federation.addresses()[&target]);
        let tcp = TcpStream::connect(address)
            .await
            .map_err(|e| e.to_string())?;
        let name = ServerName::try_from(node_server_name(target)).map_err(|e| e.to_string())?;
        let mut stream = TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await {
            Ok(Err(e)) => Err(format!("TLS handshake failed: {e}")),
            Ok(Ok(0)) => Err("the node closed the connection".to_string()),
            Ok(Ok(_)) => Ok(()),
            Err(_) => Ok(()),
        }
    };
    match attempt.await {
        Ok(()) => "UNEXPECTED: the connection was accepted".into(),
        Err(e) => format!("refused: {e}"),
    }
}

/// Asks `server` for `dataset` with `caller`'s node certificate, where no agreement
/// lets `server` disclose it to `caller`.
async fn outside_agreement_attempt(
    federation: &LocalFederation,
    caller: GssCode,
    server: GssCode,
    dataset: Dataset,
) -> String {
    let attempt = async {
        let certs = federation.root().join("certs");
        let credentials = Credentials::load(
            &certs.join(caller.to_string()).join("node.pem"),
            &certs.join(caller.to_string()).join("node.key"),
        )
        .map_err(|e| e.to_string())?;
        let mut anchors = TrustAnchors::new();
        anchors
            .insert(server, &certs.join(server.to_string()).join("ca.pem"))
            .map_err(|e| e.to_string())?;
        let tls = tls::client_config(&credentials, server, &anchors).map_err(|e| e.to_string())?;
        let address = local_address(federation.addresses()[&server]).to_string();
        let channel = dial(
            &address,
            &node_server_name(server),
            tls,
            &SyncLimits::default(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut stream = v1::replication_client::ReplicationClient::new(channel)
            .changes(v1::ChangesRequest {
                dataset: dataset.as_str().into(),
                since_seq: 0,
                agreement_id: String::new(),
                agreement_hash: String::new(),
            })
            .await
            .map_err(|s| status_text(&s))?
            .into_inner();
        stream
            .message()
            .await
            .map(|_| ())
            .map_err(|s| status_text(&s))
    };
    match attempt.await {
        Ok(()) => "UNEXPECTED: records were served".into(),
        Err(e) => format!("refused: {e} (audited at {})", server.name()),
    }
}
