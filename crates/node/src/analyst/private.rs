//! `borough query --epsilon`: differentially private answers for researchers.
//! ε is given as a decimal and sent as exact millionths, because the node keeps
//! the budget in micros and a float would round a researcher's spend.

use borough_proto::v1;

use super::{refused, QUERY_DEADLINE};
use crate::client::connect_as;
use crate::{Error, NodeConfig};

/// Millionths in one ε.
const MICROS: u64 = 1_000_000;
/// Decimal places a micro-ε can carry.
const PLACES: usize = 6;

/// Runs `request` at the node `config` describes as its researcher, spending
/// `epsilon_micros` of the researcher's budget (Query.RunPrivate).
pub async fn fetch_private(
    config: &NodeConfig,
    request: v1::QueryRequest,
    epsilon_micros: u64,
) -> Result<v1::QueryReply, Error> {
    let channel = connect_as(
        config,
        &config.tools.researcher_cert,
        &config.tools.researcher_key,
    )
    .await?;
    let mut request = tonic::Request::new(v1::PrivateQueryRequest {
        query: Some(request),
        epsilon_micros,
    });
    request.set_timeout(QUERY_DEADLINE);
    let reply = v1::query_client::QueryClient::new(channel)
        .run_private(request)
        .await
        .map_err(|s| refused(config, &s))?;
    Ok(reply.into_inner())
}

/// ε as millionths, exactly: `0.25` is 250000. Refuses anything but a plain
/// positive decimal of at most six places (no sign, exponent, `inf` or `nan`).
pub fn parse_epsilon(text: &str) -> Result<u64, Error> {
    let bad = |problem: String| Error::Argument {
        flag: "--epsilon",
        problem,
    };
    let t = text.trim();
    if t.strip_prefix('-').and_then(decimal).is_some() {
        return Err(bad(format!("{t} must be above 0")));
    }
    let Some((whole, frac)) = decimal(t) else {
        return Err(bad(format!("`{t}` is not a decimal number such as 0.25")));
    };
    if frac.len() > PLACES {
        return Err(bad(format!(
            "{t} has more than {PLACES} decimal places; ε is spent in millionths"
        )));
    }
    let too_large = || bad(format!("{t} is too large"));
    let whole: u64 = match whole {
        "" => 0,
        w => w.parse().map_err(|_| too_large())?,
    };
    // Right-pad to six places: "25" after the point is 250000 micros.
    let frac: u64 = format!("{frac:0<PLACES$}")
        .parse()
        .map_err(|_| too_large())?;
    let micros = whole
        .checked_mul(MICROS)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(too_large)?;
    if micros == 0 {
        return Err(bad(format!("{t} must be above 0")));
    }
    Ok(micros)
}

/// The whole and fractional digits of `s` if it is digits with at most one
/// decimal point and at least one digit.
fn decimal(s: &str) -> Option<(&str, &str)> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    (digits(whole) && digits(frac) && !(whole.is_empty() && frac.is_empty()))
        .then_some((whole, frac))
}

/// Millionths of ε as the shortest exact decimal: 250000 is `0.25`.
pub fn epsilon_text(micros: u64) -> String {
    let (whole, frac) = (micros / MICROS, micros % MICROS);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0PLACES$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// One line saying what a private answer spent and how much budget is left.
pub fn privacy_text(p: &v1::PrivacySpend) -> String {
    format!(
        "differential privacy: this answer spent ε {}, with discrete Laplace noise of scale {} \
         added to every count; budget spent ε {}, remaining ε {}",
        epsilon_text(p.epsilon_micros),
        p.noise_scale,
        epsilon_text(p.spent_micros),
        epsilon_text(p.remaining_micros)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_exact_micros() {
        for (text, micros) in [
            ("0.25", 250_000),
            ("1", 1_000_000),
            (".5", 500_000),
            ("0.000001", 1),
            ("2.", 2_000_000),
            (" 0.1 ", 100_000),
        ] {
            assert_eq!(parse_epsilon(text).unwrap(), micros, "{text}");
        }
    }

    #[test]
    fn zero_negative_non_numeric_and_too_precise_are_refused_naming_the_flag() {
        for (text, problem) in [
            ("0", "above 0"),
            ("0.000000", "above 0"),
            ("-", "not a decimal"),
            ("0.0", "above 0"),
            ("-0.5", "above 0"),
            ("abc", "not a decimal"),
            ("1e-3", "not a decimal"),
            ("NaN", "not a decimal"),
            ("", "not a decimal"),
            (".", "not a decimal"),
            ("+1", "not a decimal"),
            ("0.1234567", "more than 6"),
            ("99999999999999999999", "too large"),
        ] {
            let e = parse_epsilon(text).unwrap_err().to_string();
            assert!(
                e.starts_with("--epsilon: ") && e.contains(problem),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn micros_print_as_the_shortest_exact_decimal() {
        assert_eq!(epsilon_text(250_000), "0.25");
        assert_eq!(epsilon_text(1_000_000), "1");
        assert_eq!(epsilon_text(1), "0.000001");
        assert_eq!(epsilon_text(1_500_000), "1.5");
        assert_eq!(epsilon_text(0), "0");
    }
}
