//! `borough status`: asks a running node for its status over gRPC, with the
//! node's admin certificate, and renders it for a terminal.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use borough_proto::v1;

use crate::client::connect_as;
use crate::{Error, NodeConfig};

/// The address a local tool should dial for a node listening on `listen`.
pub fn local_address(listen: SocketAddr) -> SocketAddr {
    if listen.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), listen.port())
    } else {
        listen
    }
}

/// Fetches the status of the node `config` describes, as its admin.
pub async fn fetch(config: &NodeConfig) -> Result<v1::StatusReply, Error> {
    let channel = connect_as(config, &config.tools.admin_cert, &config.tools.admin_key).await?;
    let mut request = tonic::Request::new(v1::StatusRequest {});
    request.set_timeout(STATUS_DEADLINE);
    let reply = v1::admin_client::AdminClient::new(channel)
        .status(request)
        .await
        .map_err(|s| {
            Error::Unreachable(format!(
                "{} refused the status call: {}",
                local_address(config.listen),
                s.message()
            ))
        })?;
    Ok(reply.into_inner())
}

/// How long a status call may take.
const STATUS_DEADLINE: Duration = Duration::from_secs(10);

/// Renders a status reply as aligned text tables.
pub fn render(reply: &v1::StatusReply) -> String {
    let mut out = format!("{} ({})\n\n", reply.borough_name, reply.borough);
    let mut own = Table::new(&["own dataset", "log head", "records"]);
    for d in &reply.own {
        own.row(vec![
            d.dataset.clone(),
            d.head_seq.to_string(),
            d.records.to_string(),
        ]);
    }
    out.push_str(&own.render());
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    for (title, flows) in [
        ("pulling from peer", &reply.inbound),
        ("pulled by peer", &reply.outbound),
    ] {
        out.push('\n');
        if flows.is_empty() {
            out.push_str(&format!("{title}: none\n"));
            continue;
        }
        let mut t = Table::new(&[
            title,
            "dataset",
            "connection",
            "agreement",
            "checkpoint",
            "peer head",
            "lag",
            "lag (s)",
            "records",
            "last contact",
            "last error",
        ]);
        for f in flows.iter() {
            let contact = if f.last_contact_unix_ms == 0 {
                "never".to_string()
            } else {
                format!(
                    "{:.1}s ago",
                    (now_ms - f.last_contact_unix_ms).max(0) as f64 / 1000.0
                )
            };
            t.row(vec![
                format!("{} ({})", f.peer_name, f.peer),
                f.dataset.clone(),
                f.connection.clone(),
                if f.agreement_id.is_empty() {
                    f.agreement.clone()
                } else {
                    format!("{} ({})", f.agreement, f.agreement_id)
                },
                f.checkpoint.to_string(),
                f.peer_head.to_string(),
                f.lag_records.to_string(),
                format!("{:.1}", f.lag_seconds),
                if title.starts_with("pulling") {
                    f.records.to_string()
                } else {
                    "-".into()
                },
                contact,
                if f.last_error.is_empty() {
                    "-".into()
                } else {
                    f.last_error.clone()
                },
            ]);
        }
        out.push_str(&t.render());
    }
    out
}

/// A plain text table with columns sized to their widest cell (`borough status`,
/// the demo).
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with this header row.
    pub fn new(header: &[&str]) -> Table {
        Table {
            rows: vec![header.iter().map(|h| h.to_string()).collect()],
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text: cells left-aligned, two spaces apart, one line a row.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let line: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| format!("{cell:<width$}", width = widths[c]))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}
