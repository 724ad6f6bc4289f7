//! Diagnostics of a run: an error (or, with `allow_partial_failure`, a warning) naming every phone
//! that did not succeed with its code and message, an error when the run was cut short, and what the
//! user can do next, which depends on whether the apply created the resource (Terraform then taints
//! it) or updated it. This is the one place run results become Terraform diagnostics.

use tfplugin::{Diagnostic, Diagnostics};

use crate::records::Status;
use crate::runner::{Interruption, RunOutcome};

/// The failed phones a diagnostic lists one by one; the rest are counted (all are in state).
const LISTED_FAILURES: usize = 200;

/// Who ran what, for the words of the diagnostics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    /// The resource type, e.g. `cph_phone_restart`.
    pub(crate) type_name: &'a str,
    /// The operation in words, e.g. `restart` or `property update`.
    pub(crate) verb: &'a str,
    /// Whether the apply creates the resource (Terraform taints a failed create).
    pub(crate) creating: bool,
    /// `allow_partial_failure`.
    pub(crate) allow_partial: bool,
}

impl Context<'_> {
    /// What the next apply does, and on a create how to keep the records through it.
    fn next_step(&self) -> String {
        if self.creating {
            format!(
                "Every phone's result is recorded in state. Terraform marks a resource whose creation reported an \
                 error as tainted and would replace it, performing the {verb} on every phone again. To keep these \
                 records and have the next apply act only on the phones that need it, run `terraform untaint \
                 {ty}.<name>` (the resource's address) first.",
                verb = self.verb,
                ty = self.type_name
            )
        } else {
            format!(
                "Every phone's result is recorded in state; the next plan shows the phones that need the {} again \
                 and the next apply acts on those alone.",
                self.verb
            )
        }
    }
}

/// A warning for the jobs a refresh found the service no longer knows (recorded `unknown` now), by
/// phone and job id; none when there are none.
pub(crate) fn lost_in_refresh(type_name: &str, outcome: &RunOutcome) -> Diagnostics {
    let lost: Vec<String> = outcome
        .results
        .iter()
        .filter(|r| r.status == Status::Unknown)
        .take(LISTED_FAILURES)
        .map(|r| {
            let job = r.job_id.as_ref().map_or("", |j| j.as_str());
            format!(
                "  phone {} (job {job}): {}",
                r.phone_id,
                r.error_msg.as_deref().unwrap_or("")
            )
        })
        .collect();
    let mut diags = Diagnostics::new();
    if lost.is_empty() {
        return diags;
    }
    diags.push(Diagnostic::warning(
        "Jobs No Longer Known",
        format!(
            "{type_name}: {} recorded as running {} no longer known to the service; whether {} succeeded is unknown, \
             and {} now recorded `unknown`:\n{}\n\nThe next apply reads each phone first and sends it again only \
             when nothing shows that its job ran.",
            if lost.len() == 1 { "a job" } else { "jobs" },
            if lost.len() == 1 { "is" } else { "are" },
            if lost.len() == 1 { "it" } else { "they" },
            if lost.len() == 1 { "the phone is" } else { "the phones are" },
            lost.join("\n")
        ),
    ));
    diags
}

/// The diagnostics of `outcome` in `ctx`.
pub(crate) fn report(outcome: &RunOutcome, ctx: Context<'_>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let total = outcome.results.len();
    let failed: Vec<_> = outcome
        .results
        .iter()
        .filter(|r| {
            !matches!(
                r.status,
                Status::Success | Status::Running | Status::NotSubmitted
            )
        })
        .collect();
    if !failed.is_empty() {
        let mut lines: Vec<String> = failed
            .iter()
            .take(LISTED_FAILURES)
            .map(|r| {
                let record = r.to_record();
                let job = if record.job_id.is_empty() {
                    String::new()
                } else {
                    format!(" (job {})", record.job_id)
                };
                let msg = if record.error_msg.is_empty() {
                    String::new()
                } else {
                    format!(": {}", record.error_msg)
                };
                format!(
                    "  phone {}{job}: {} {}{msg}",
                    record.phone_id, record.status, record.error_code
                )
            })
            .collect();
        if failed.len() > LISTED_FAILURES {
            lines.push(format!(
                "  ... and {} more, listed in the resource's records",
                failed.len() - LISTED_FAILURES
            ));
        }
        let summary = format!(
            "{} of {} Phones Failed to {}",
            failed.len(),
            total,
            title(ctx.verb)
        );
        let ambiguous = failed.iter().any(|r| r.status == Status::Unknown);
        let unknown_note = if ambiguous {
            "\n\nA phone recorded `unknown` was in a request that failed without a clear answer, or its job was \
             forgotten by the service before it was seen finished: the service may have acted on it, and nothing \
             read so far shows whether it did. It was not sent again. The next apply reads it first: a job of that \
             request, or the phone in the operation's in-progress status (restarting, resetting, stopping), means \
             the request was performed and the phone is waited on; otherwise it is sent once more."
        } else {
            ""
        };
        if let Some(Interruption::BudgetExceeded { failures, budget }) = &outcome.interruption {
            // One error: the budget, the count, and each failed phone.
            let unsent = outcome
                .results
                .iter()
                .filter(|r| r.status == Status::NotSubmitted)
                .count();
            diags.push(Diagnostic::error(
                format!("Rollout Stopped: {failures} Phones Failed, More Than the Budget of {budget}"),
                format!(
                    "The {verb} rolls out with a failure budget (`rollout.max_failures`) of {budget} phones: {failures} \
                     of {total} phones failed, so nothing more was submitted; the phones in flight were waited on, \
                     and {unsent} phones were not submitted (recorded `not_submitted`). The phones that failed:\n{}\
                     {unknown_note}\n\n{} The next apply carries on with the phones that still need the {verb} and \
                     never submits a phone that succeeded again.",
                    lines.join("\n"),
                    ctx.next_step(),
                    verb = ctx.verb
                ),
            ));
            return diags;
        }
        if ctx.allow_partial {
            diags.push(Diagnostic::warning(
                summary,
                format!(
                    "The {verb} did not succeed on these phones (allow_partial_failure = true, so the apply goes on; \
                     the next plan retries them):\n{}{unknown_note}",
                    lines.join("\n"),
                    verb = ctx.verb
                ),
            ));
        } else {
            diags.push(Diagnostic::error(
                summary,
                format!(
                    "The {verb} did not succeed on these phones:\n{}{unknown_note}\n\n{} Set allow_partial_failure = \
                     true to accept partial results.",
                    lines.join("\n"),
                    ctx.next_step(),
                    verb = ctx.verb
                ),
            ));
        }
    }
    if let Some(interruption) = &outcome.interruption {
        let running = outcome
            .results
            .iter()
            .filter(|r| r.status == Status::Running)
            .count();
        let unsent = outcome
            .results
            .iter()
            .filter(|r| r.status == Status::NotSubmitted)
            .count();
        let kept = format!(
            "{running} of {total} phones were still running and {unsent} not yet submitted; every request id and \
             job id known so far is recorded in state. The next apply waits on the running jobs rather than \
             submitting them again. {}",
            ctx.next_step()
        );
        let diag = match interruption {
            Interruption::Timeout(t) => Diagnostic::error(
                format!("Timed Out Waiting for the {}", title(ctx.verb)),
                format!(
                    "the jobs did not finish within {}. {kept} Raise the resource's `timeouts` if the jobs need longer.",
                    humantime::format_duration(*t)
                ),
            ),
            Interruption::Cancelled => Diagnostic::error(
                format!("{} Interrupted", title(ctx.verb)),
                format!(
                    "Terraform asked the provider to stop while it was submitting or waiting. {kept}"
                ),
            ),
            Interruption::Failed(e) => Diagnostic::error(
                format!("{} Failed", title(ctx.verb)),
                format!("{e}. {kept}"),
            ),
            // Reported with the failed phones above.
            Interruption::BudgetExceeded { .. } => return diags,
        };
        diags.push(diag);
    }
    diags
}

/// `property update` -> `Property Update`.
pub(crate) fn title(verb: &str) -> String {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use cph_types::{JobId, PhoneId};

    use super::*;
    use crate::runner::PhoneResult;

    fn result(phone: &str, status: Status, code: &str) -> PhoneResult {
        PhoneResult {
            phone_id: PhoneId::new(phone).unwrap(),
            request_id: None,
            job_id: (status != Status::Rejected)
                .then(|| JobId::new(format!("job-{phone}")).unwrap()),
            status,
            error_code: (!code.is_empty()).then(|| code.to_owned()),
            error_msg: (!code.is_empty()).then(|| "went wrong".to_owned()),
            begin_time: None,
            end_time: None,
        }
    }

    fn outcome(results: Vec<PhoneResult>, interruption: Option<Interruption>) -> RunOutcome {
        RunOutcome {
            results,
            interruption,
        }
    }

    fn ctx(creating: bool, allow_partial: bool) -> Context<'static> {
        Context {
            type_name: "cph_phone_restart",
            verb: "restart",
            creating,
            allow_partial,
        }
    }

    #[test]
    fn failures_name_each_phone_with_its_code_and_a_failed_create_says_to_untaint() {
        let o = outcome(
            vec![
                result("p1", Status::Success, ""),
                result("p2", Status::Rejected, "CPS.0005"),
                result("p3", Status::Failed, "CPS.0003"),
            ],
            None,
        );
        let diags = report(&o, ctx(true, false));
        let d = diags.iter().next().unwrap();
        assert_eq!(d.summary, "2 of 3 Phones Failed to Restart");
        assert!(
            d.detail.contains("phone p2: rejected CPS.0005: went wrong"),
            "{}",
            d.detail
        );
        assert!(
            d.detail.contains("phone p3 (job job-p3): failed CPS.0003"),
            "{}",
            d.detail
        );
        assert!(
            d.detail
                .contains("terraform untaint cph_phone_restart.<name>"),
            "{}",
            d.detail
        );
        assert!(diags.has_errors());
        // On an update nothing is tainted: the advice is the per-phone retry.
        let update = report(&o, ctx(false, false));
        let d = update.iter().next().unwrap();
        assert!(
            !d.detail.contains("untaint") && d.detail.contains("acts on those alone"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn allow_partial_failure_makes_failures_a_warning() {
        let o = outcome(vec![result("p1", Status::Failed, "CPS.0003")], None);
        let diags = report(&o, ctx(true, true));
        assert!(!diags.has_errors());
        assert!(
            diags
                .iter()
                .next()
                .unwrap()
                .detail
                .contains("next plan retries them")
        );
    }

    #[test]
    fn a_timeout_is_an_error_that_counts_the_running_phones() {
        let o = outcome(
            vec![
                result("p1", Status::Running, ""),
                result("p2", Status::Success, ""),
                result("p3", Status::NotSubmitted, ""),
            ],
            Some(Interruption::Timeout(Duration::from_secs(2))),
        );
        let diags = report(&o, ctx(false, true));
        let d = diags.iter().next().unwrap();
        assert_eq!(d.summary, "Timed Out Waiting for the Restart");
        assert!(
            d.detail.contains("within 2s") && d.detail.contains("1 of 3 phones were still running"),
            "{}",
            d.detail
        );
        assert!(
            diags.has_errors(),
            "a cut-short wait is an error even with allow_partial_failure"
        );
    }

    #[test]
    fn a_stopped_rollout_is_one_error_with_the_budget_the_count_and_each_failed_phone() {
        let o = outcome(
            vec![
                result("p1", Status::Success, ""),
                result("p2", Status::Failed, "CPS.0003"),
                result("p3", Status::Rejected, "CPS.0005"),
                result("p4", Status::NotSubmitted, ""),
            ],
            Some(Interruption::BudgetExceeded {
                failures: 2,
                budget: 1,
            }),
        );
        // Even with allow_partial_failure: the budget is the stronger rule.
        let diags = report(&o, ctx(true, true));
        assert_eq!(diags.iter().count(), 1);
        let d = diags.iter().next().unwrap();
        assert!(diags.has_errors());
        assert_eq!(
            d.summary,
            "Rollout Stopped: 2 Phones Failed, More Than the Budget of 1"
        );
        for expected in [
            "phone p2 (job job-p2): failed CPS.0003",
            "phone p3: rejected CPS.0005",
            "1 phones were not submitted",
            "terraform untaint",
        ] {
            assert!(d.detail.contains(expected), "{expected}: {}", d.detail);
        }
    }

    #[test]
    fn an_ambiguous_submission_is_said_to_maybe_have_acted() {
        let o = outcome(vec![result("p1", Status::Unknown, "")], None);
        let diags = report(&o, ctx(false, false));
        assert!(
            diags
                .iter()
                .next()
                .unwrap()
                .detail
                .contains("may have acted")
        );
    }

    #[test]
    fn all_succeeded_is_silent_and_long_failure_lists_are_capped_and_counted() {
        let ok = outcome(vec![result("p1", Status::Success, "")], None);
        assert!(report(&ok, ctx(true, false)).is_empty());
        let many = (0..250)
            .map(|i| result(&format!("p{i}"), Status::Failed, "CPS.0003"))
            .collect();
        let diags = report(&outcome(many, None), ctx(true, false));
        assert!(
            diags
                .iter()
                .next()
                .unwrap()
                .detail
                .contains("... and 50 more")
        );
    }
}
