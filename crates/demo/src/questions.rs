//! The analyst's questions the demo asks: regional figures at one node over its
//! own records and the replicas its agreements let it hold, as `borough query`
//! asks them and through the same disclosure control.

use borough_model::{Dataset, GssCode};
use borough_node::federation::LocalFederation;
use borough_proto::v1;

use crate::Error;

/// A question: what the analyst asks for, and how the demo introduces it.
pub(crate) struct Question {
    /// One line saying what is asked.
    pub(crate) title: &'static str,
    /// The `borough query` flags that ask the same.
    pub(crate) flags: &'static str,
    /// The request.
    pub(crate) request: v1::QueryRequest,
}

fn request(dataset: Dataset, measures: &[&str], group_by: &[&str]) -> v1::QueryRequest {
    v1::QueryRequest {
        dataset: dataset.as_str().into(),
        measures: measures.iter().map(|m| m.to_string()).collect(),
        group_by: group_by.iter().map(|d| d.to_string()).collect(),
        filters: vec![],
    }
}

/// The questions: an employment figure deduplicated across borough lines, the
/// childcare places on offer, and the joined figure the partnership exists for.
pub(crate) fn questions() -> Vec<Question> {
    vec![
        Question {
            title: "participants and job outcomes by the borough they live in",
            flags: "--dataset employment-participation --measures participants,job-outcomes --by resident-borough",
            request: request(
                Dataset::EmploymentParticipation,
                &["participants", "job-outcomes"],
                &["resident-borough"],
            ),
        },
        Question {
            title: "childcare providers, places and vacancies by provider borough",
            flags: "--dataset childcare-places --measures providers,places,vacancies --by provider-borough",
            request: request(
                Dataset::ChildcarePlaces,
                &["providers", "places", "vacancies"],
                &["provider-borough"],
            ),
        },
        Question {
            title: "participants with a childcare barrier, and of them those with a childcare request",
            flags: "--dataset employment-participation --measures barrier-participants,barrier-request-participants",
            request: request(
                Dataset::EmploymentParticipation,
                &["barrier-participants", "barrier-request-participants"],
                &[],
            ),
        },
    ]
}

/// Asks `question` at `borough`'s node as its analyst; the answer as
/// `borough query` prints it.
pub(crate) async fn ask(
    federation: &LocalFederation,
    borough: GssCode,
    question: &Question,
) -> Result<String, Error> {
    let node = federation.node(borough).ok_or(Error::NotRunning(borough))?;
    let reply = borough_node::analyst::fetch(&node.config, question.request.clone()).await?;
    Ok(borough_node::analyst::render_table(&reply))
}
