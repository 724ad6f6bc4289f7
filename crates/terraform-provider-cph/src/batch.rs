//! The bridge between resources and `cph-http`: runs a batch operation (submit in chunks, wait on
//! every job in bulk), turns each phone's outcome into the `jobs` record kept in state, and turns
//! client errors and failed phones into diagnostics. This is the one place client errors become
//! Terraform diagnostics.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cph_http::{Error, PhoneFilter, PhoneOutcome, PhoneState, WaitEnd, WaitOptions, WaitReport};
use cph_types::{
    CPS_NOT_FOUND, PhoneId, PhoneSummary, ResetRequest, RestartRequest, RestoreRequest,
    UpdatePropertyRequest,
};
use tfplugin::{CancellationToken, Diagnostic, Diagnostics};

use crate::common::{JobRecord, status};
use crate::provider::ProviderData;

/// The failed phones a diagnostic lists one by one; the rest are counted (all are in state).
const LISTED_FAILURES: usize = 200;

/// A batch operation a resource performs.
#[derive(Debug, Clone)]
pub(crate) enum Operation {
    Restart(RestartRequest),
    Reset(ResetRequest),
    UpdateProperty(UpdatePropertyRequest),
    Restore(RestoreRequest),
}

/// Why a run ended before every phone finished.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Interruption {
    /// The resource's timeout passed.
    Timeout(Duration),
    /// Terraform asked the provider to stop (Ctrl-C).
    Cancelled,
    /// Submitting or polling failed in a way waiting cannot fix.
    Failed(String),
}

/// What a run did: every request id, one record per phone (in request order), and why it ended early.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub(crate) request_ids: Vec<String>,
    pub(crate) jobs: Vec<JobRecord>,
    pub(crate) interruption: Option<Interruption>,
}

/// Submits `operation` and waits on its jobs until all finish, `deadline` passes or `cancel` fires.
pub(crate) async fn run(
    data: &ProviderData,
    cancel: &CancellationToken,
    operation: Operation,
    deadline: Instant,
    timeout: Duration,
) -> Outcome {
    let options = WaitOptions::new().deadline(deadline).cancel(cancel.clone());
    let client = &data.client;
    let result = match &operation {
        Operation::Restart(r) => client.submit_and_wait(r, &options).await,
        Operation::Reset(r) => client.submit_and_wait(r, &options).await,
        Operation::UpdateProperty(r) => client.submit_and_wait(r, &options).await,
        Operation::Restore(r) => client.submit_and_wait(r, &options).await,
    };
    match result {
        Ok(report) => outcome_of(report, timeout),
        Err(e) => Outcome {
            interruption: Some(Interruption::Failed(e.to_string())),
            ..Outcome::default()
        },
    }
}

fn outcome_of(report: WaitReport, timeout: Duration) -> Outcome {
    let interruption = match report.end {
        WaitEnd::Finished => None,
        WaitEnd::DeadlineExceeded => Some(Interruption::Timeout(timeout)),
        WaitEnd::Cancelled => Some(Interruption::Cancelled),
        WaitEnd::Failed(e) => Some(Interruption::Failed(e.to_string())),
    };
    Outcome {
        request_ids: report
            .request_ids
            .iter()
            .map(|r| r.as_str().to_string())
            .collect(),
        jobs: report.outcomes.iter().map(record_of).collect(),
        interruption,
    }
}

/// The status recorded in state for a client-side phone state.
fn status_of(state: PhoneState) -> &'static str {
    match state {
        PhoneState::Succeeded => status::SUCCESS,
        PhoneState::Running => status::RUNNING,
        PhoneState::SubmitUnknown => "unknown",
        PhoneState::NotSubmitted => "not_submitted",
        _ => status::FAILED,
    }
}

fn record_of(o: &PhoneOutcome) -> JobRecord {
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    let (error_code, error_msg) = match o.state {
        PhoneState::Succeeded | PhoneState::Running => (text(&o.error_code), text(&o.error_msg)),
        PhoneState::NotSubmitted => (
            text(&o.error_code),
            o.error_msg
                .clone()
                .unwrap_or_else(|| "not sent: the run was interrupted first".into()),
        ),
        _ => (
            o.error_code
                .clone()
                .unwrap_or_else(|| o.state.as_str().to_string()),
            text(&o.error_msg),
        ),
    };
    JobRecord {
        phone_id: o.phone_id.as_str().to_string(),
        job_id: o
            .job_id
            .as_ref()
            .map(|j| j.as_str().to_string())
            .unwrap_or_default(),
        status: status_of(o.state).to_string(),
        error_code,
        error_msg,
        begin_time: text(&o.begin_time),
        end_time: text(&o.end_time),
    }
}

/// Diagnostics for a run of `verb` (e.g. `restart`): an error (or, when `allow_partial`, a warning)
/// naming every phone that did not succeed, and an error when the run ended early.
pub(crate) fn report(outcome: &Outcome, verb: &str, allow_partial: bool) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let total = outcome.jobs.len();
    let failed: Vec<&JobRecord> = outcome
        .jobs
        .iter()
        .filter(|j| j.status != status::SUCCESS && j.status != status::RUNNING)
        .collect();
    if !failed.is_empty() {
        let mut lines: Vec<String> = failed
            .iter()
            .take(LISTED_FAILURES)
            .map(|j| {
                let job = if j.job_id.is_empty() {
                    String::new()
                } else {
                    format!(" (job {})", j.job_id)
                };
                let msg = if j.error_msg.is_empty() {
                    String::new()
                } else {
                    format!(": {}", j.error_msg)
                };
                format!(
                    "  phone {}{job}: {} {}{msg}",
                    j.phone_id, j.status, j.error_code
                )
            })
            .collect();
        if failed.len() > LISTED_FAILURES {
            lines.push(format!(
                "  ... and {} more, listed in the resource's `jobs`",
                failed.len() - LISTED_FAILURES
            ));
        }
        let summary = format!(
            "{} of {} Phones Failed to {}",
            failed.len(),
            total,
            title(verb)
        );
        if allow_partial {
            let detail = format!(
                "The {verb} did not succeed on these phones (allow_partial_failure = true, so the apply goes on):\n{}",
                lines.join("\n")
            );
            diags.push(Diagnostic::warning(summary, detail));
        } else {
            let detail = format!(
                "The {verb} did not succeed on these phones:\n{}\n\nEvery job is recorded in state and the resource is \
                 marked tainted, so the next apply runs the {verb} again. Set allow_partial_failure = true to accept \
                 partial results.",
                lines.join("\n")
            );
            diags.push(Diagnostic::error(summary, detail));
        }
    }
    if let Some(interruption) = &outcome.interruption {
        let running = outcome
            .jobs
            .iter()
            .filter(|j| j.status == status::RUNNING)
            .count();
        let kept = format!(
            "{running} of {total} phones were still running; every request id and job id known so far is recorded in \
             state (unfinished jobs as status \"running\")."
        );
        let diag = match interruption {
            Interruption::Timeout(t) => Diagnostic::error(
                format!("Timed Out Waiting for the {}", title(verb)),
                format!(
                    "the jobs did not finish within {}. {kept} Raise the `timeouts` of the resource if the jobs need \
                     longer.",
                    humantime::format_duration(*t)
                ),
            ),
            Interruption::Cancelled => Diagnostic::error(
                format!("{} Interrupted", title(verb)),
                format!("Terraform asked the provider to stop while waiting on the jobs. {kept}"),
            ),
            Interruption::Failed(e) => {
                Diagnostic::error(format!("{} Failed", title(verb)), format!("{e}. {kept}"))
            }
        };
        diags.push(diag);
    }
    diags
}

fn title(verb: &str) -> String {
    verb.split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn api_diagnostic(summary: &str, e: &Error) -> Diagnostic {
    Diagnostic::error(summary, e.to_string())
}

/// Every phone matching `filter` (all pages).
pub(crate) async fn list_phones(
    data: &ProviderData,
    filter: &PhoneFilter,
) -> Result<Vec<PhoneSummary>, Diagnostic> {
    data.client
        .list_phones(filter)
        .await
        .map_err(|e| api_diagnostic("Cannot List Phones", &e))
}

/// A phone's current properties, `None` when the phone does not exist.
pub(crate) async fn phone_properties(
    data: &ProviderData,
    phone_id: &PhoneId,
) -> Result<Option<BTreeMap<String, String>>, Diagnostic> {
    match data.client.show_phone(phone_id).await {
        Ok(detail) => detail
            .properties()
            .map(|m| Some(m.as_map().clone()))
            .map_err(|e| {
                Diagnostic::error(
                    "Unreadable Phone Properties",
                    format!("phone {phone_id}: {e}"),
                )
            }),
        Err(e) if e.status() == Some(404) || e.code() == Some(CPS_NOT_FOUND) => Ok(None),
        Err(e) => Err(api_diagnostic("Cannot Read Phone", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(phone: &str, status: &str, code: &str) -> JobRecord {
        JobRecord {
            phone_id: phone.into(),
            job_id: if code == "CPS.0005" {
                String::new()
            } else {
                format!("job-{phone}")
            },
            status: status.into(),
            error_code: code.into(),
            error_msg: if code.is_empty() {
                String::new()
            } else {
                "went wrong".into()
            },
            ..JobRecord::default()
        }
    }

    fn outcome(jobs: Vec<JobRecord>, interruption: Option<Interruption>) -> Outcome {
        Outcome {
            request_ids: vec!["r1".into()],
            jobs,
            interruption,
        }
    }

    #[test]
    fn failed_phones_are_one_error_naming_each_phone_and_code() {
        let o = outcome(
            vec![
                job("p1", "success", ""),
                job("p2", "failed", "CPS.0003"),
                job("p3", "failed", "CPS.0005"),
            ],
            None,
        );
        let diags = report(&o, "restart", false);
        assert!(diags.has_errors());
        let d = diags.iter().next().unwrap();
        assert_eq!(d.summary, "2 of 3 Phones Failed to Restart");
        assert!(
            d.detail
                .contains("phone p2 (job job-p2): failed CPS.0003: went wrong"),
            "{}",
            d.detail
        );
        assert!(
            d.detail.contains("phone p3: failed CPS.0005"),
            "{}",
            d.detail
        );
        assert!(!d.detail.contains("p1"));
    }

    #[test]
    fn allow_partial_failure_turns_failures_into_warnings() {
        let o = outcome(
            vec![job("p1", "success", ""), job("p2", "failed", "CPS.0003")],
            None,
        );
        let diags = report(&o, "property update", true);
        assert!(!diags.has_errors());
        assert_eq!(
            diags.iter().next().unwrap().summary,
            "1 of 2 Phones Failed to Property Update"
        );
    }

    #[test]
    fn a_timeout_is_an_error_even_with_allow_partial_failure() {
        let o = outcome(
            vec![job("p1", "success", ""), job("p2", "running", "")],
            Some(Interruption::Timeout(Duration::from_secs(90))),
        );
        let diags = report(&o, "reset", true);
        assert!(diags.has_errors());
        let d = diags.iter().next().unwrap();
        assert_eq!(d.summary, "Timed Out Waiting for the Reset");
        assert!(
            d.detail.contains("1m 30s") && d.detail.contains("1 of 2 phones were still running"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn a_successful_run_has_no_diagnostics() {
        let o = outcome(
            vec![job("p1", "success", ""), job("p2", "success", "")],
            None,
        );
        assert!(report(&o, "restart", false).is_empty());
    }

    #[test]
    fn long_failure_lists_are_capped_and_counted() {
        let jobs = (0..250)
            .map(|i| job(&format!("p{i}"), "failed", "CPS.0003"))
            .collect();
        let diags = report(&outcome(jobs, None), "restart", false);
        let d = diags.iter().next().unwrap();
        assert!(
            d.detail.contains("... and 50 more"),
            "{}",
            &d.detail[d.detail.len() - 200..]
        );
    }
}
