//! Every diagnostic the provider words about phones and runs: what a plan will do and why, what a
//! run did (an error, or with `allow_partial_failure` a warning, naming every phone that did not
//! succeed with its code and message; an error when the run was cut short) and what the user can do
//! next, which depends on whether the apply created the resource (Terraform then taints it),
//! updated it, or recorded nothing at all. This is the one place where results become words, and
//! every summary is a sentence whatever the counts (see the test that renders them with 1 and 2).

use std::collections::BTreeSet;

use cph_types::{BatchOperation, PhoneId};
use tfplugin::{Diagnostic, Diagnostics};

use crate::planner::Summary;
use crate::records::{Record, Status};
use crate::runner::{Interruption, RunOutcome};

/// The failed phones a diagnostic lists one by one; the rest are counted (all are in state).
const LISTED_FAILURES: usize = 200;

/// `n` and the noun, agreeing: "1 phone", "2 phones".
pub(crate) fn phones(n: usize) -> String {
    if n == 1 {
        "1 phone".to_owned()
    } else {
        format!("{n} phones")
    }
}

/// The same, title-cased for a summary: "1 Phone", "2 Phones".
fn phones_title(n: usize) -> String {
    if n == 1 {
        "1 Phone".to_owned()
    } else {
        format!("{n} Phones")
    }
}

/// "was" or "were", agreeing with `n`.
fn was(n: usize) -> &'static str {
    if n == 1 { "was" } else { "were" }
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

/// The plan's warning: how many of the phones need work, and why, one clause per reason.
pub(crate) fn plan_summary(
    type_name: &str,
    done: &str,
    summary: &Summary,
    named: &[String],
) -> Diagnostic {
    let working = summary.working();
    let need = if working == 1 { "Needs" } else { "Need" };
    Diagnostic::warning(
        format!("{working} of {} {need} Work", phones_title(summary.total)),
        format!(
            "{type_name}: {}{}. The other phones keep their records and are not called.",
            plan_reasons(summary, done, "restart").join("; "),
            listed(named)
        ),
    )
}

/// `: a, b, c and N more` for the first twenty of `items`; nothing when there are none.
fn listed(items: &[String]) -> String {
    const SHOWN: usize = 20;
    if items.is_empty() {
        return String::new();
    }
    let more = if items.len() > SHOWN {
        format!(" and {} more", items.len() - SHOWN)
    } else {
        String::new()
    };
    format!(": {}{more}", items[..items.len().min(SHOWN)].join(", "))
}

/// One clause per reason, e.g. "3 phones failed last time and will be retried".
pub(crate) fn plan_reasons(summary: &Summary, verb: &str, follow: &str) -> Vec<String> {
    // "1 phone was", "3 phones were": the count with the verb that agrees with it.
    let agree = |n: usize, one: &str, many: &str| {
        format!("{} {}", phones(n), if n == 1 { one } else { many })
    };
    let mut out = Vec::new();
    for (status, n) in &summary.retried {
        let n = *n;
        let last = match status {
            Status::Failed => agree(n, "failed", "failed"),
            Status::Rejected => agree(n, "was rejected", "were rejected"),
            Status::NotSubmitted => agree(n, "was not submitted", "were not submitted"),
            Status::Unknown => agree(
                n,
                "has an unknown outcome (the service may have acted)",
                "have an unknown outcome (the service may have acted)",
            ),
            other => format!("{} as {:?}", agree(n, "ended", "ended"), other.as_str()),
        };
        if *status == Status::Unknown {
            out.push(format!(
                "{last} last time and will be read first: waited on if the service acted, else sent once more"
            ));
            continue;
        }
        out.push(format!("{last} last time and will be retried"));
    }
    // (count, "is"-clause for one phone, for several, what happens next)
    let reasons: [(usize, &str, &str, String); 6] = [
        (
            summary.waited,
            "still has a job",
            "still have a job",
            "running and will be waited on, not submitted again".to_owned(),
        ),
        (
            summary.new,
            "is new",
            "are new",
            format!("and will be {verb}"),
        ),
        (
            summary.changed,
            "has changed inputs",
            "have changed inputs",
            format!("and will be {verb} again"),
        ),
        (
            summary.differs,
            "is not as the configuration says",
            "are not as the configuration says",
            format!("(changed outside Terraform, or in the configuration) and will be {verb}"),
        ),
        (
            summary.unknown_inputs,
            "has inputs",
            "have inputs",
            format!("known only at apply time and will be {verb}"),
        ),
        (
            summary.never_done,
            "has no record",
            "have no record",
            format!("of being {verb} and will be"),
        ),
    ];
    for (n, one, many, next) in reasons {
        if n > 0 {
            out.push(format!("{} {next}", agree(n, one, many)));
        }
    }
    if summary.follow_only > 0 {
        out.push(format!(
            "{} their {follow}",
            agree(summary.follow_only, "will get", "will get")
        ));
    }
    out
}

/// What state a failed run leaves, which decides what the user can do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// A create that recorded what it did: Terraform taints the resource.
    Tainted,
    /// An update: nothing is tainted.
    Updated,
    /// A create that sent nothing: nothing is recorded, and nothing is tainted.
    Nothing,
}

/// Who ran what, for the words of the diagnostics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunContext<'a> {
    /// The resource type, e.g. `cph_phone_restart`.
    pub(crate) type_name: &'a str,
    /// The operation in words, e.g. `restart` or `property update`.
    pub(crate) verb: &'a str,
    /// What state the run leaves.
    pub(crate) recorded: Recorded,
    /// `allow_partial_failure`.
    pub(crate) allow_partial: bool,
}

impl RunContext<'_> {
    /// What the next apply does, and on a create how to keep the records through it.
    fn next_step(&self) -> String {
        match self.recorded {
            Recorded::Tainted => format!(
                "Every phone's result is recorded in state. Terraform marks a resource whose creation reported an \
                 error as tainted and would replace it, performing the {verb} on every phone again. To keep these \
                 records and have the next apply act only on the phones that need it, run `terraform untaint \
                 {ty}.<name>` (the resource's address) first.",
                verb = self.verb,
                ty = self.type_name
            ),
            Recorded::Updated => format!(
                "Every phone's result is recorded in state; the next plan shows the phones that need the {} again \
                 and the next apply acts on those alone.",
                self.verb
            ),
            Recorded::Nothing => {
                "Nothing was sent, so nothing is recorded and nothing is tainted: the next apply starts afresh."
                    .to_owned()
            }
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
    let n = lost.len();
    if n == 0 {
        return diags;
    }
    diags.push(Diagnostic::warning(
        if n == 1 {
            "A Running Job Is No Longer Known".to_owned()
        } else {
            format!("{n} Running Jobs Are No Longer Known")
        },
        format!(
            "{type_name}: {} recorded as running {} no longer known to the service; whether {} succeeded is unknown, \
             and {} now recorded `unknown`:\n{}\n\nThe next apply reads each phone first and sends it again only \
             when nothing shows that its job ran.",
            if n == 1 { "a job" } else { "jobs" },
            if n == 1 { "is" } else { "are" },
            if n == 1 { "it" } else { "they" },
            if n == 1 { "the phone is" } else { "the phones are" },
            lost.join("\n")
        ),
    ));
    diags
}

/// One phone of a list of phones that did not succeed: `  phone ID (job J): STATUS CODE: MESSAGE`,
/// the job's role (e.g. `restart`) beside its id when it is not the operation's own.
fn phone_line(record: &Record, role: &str) -> String {
    let job = match (&record.job_id, role) {
        (Some(j), "") => format!(" (job {j})"),
        (Some(j), role) => format!(" ({role} job {j})"),
        (None, "") => String::new(),
        (None, role) => format!(" ({role})"),
    };
    let msg = if record.error_msg.is_empty() {
        String::new()
    } else {
        format!(": {}", record.error_msg)
    };
    let code = if record.error_code.is_empty() || record.error_code == record.status.as_str() {
        String::new()
    } else {
        format!(" {}", record.error_code)
    };
    format!(
        "  phone {}{job}: {}{code}{msg}",
        record.phone_id, record.status
    )
}

/// The outcome of an action's invocation of `verb` as diagnostics: nothing when every phone
/// succeeded; otherwise one error naming every phone that did not (with its status, code, message
/// and job), the phones still running with their jobs when the invocation was cut short, and those
/// never submitted. `records` are the operation's own, then its follow-up restarts' (`true`).
pub(crate) fn invocation<'a>(
    type_name: &str,
    verb: &str,
    records: impl Iterator<Item = (bool, &'a Record)>,
    interruption: Option<&Interruption>,
) -> Diagnostics {
    let (mut total, mut troubled) = (BTreeSet::new(), BTreeSet::new());
    let (mut failed, mut running, mut unsent) = (Vec::new(), Vec::new(), Vec::new());
    for (follow, record) in records {
        total.insert(record.phone_id.as_str());
        let role = if follow { "restart" } else { "" };
        let list = match record.status {
            Status::Success => continue,
            Status::Running => &mut running,
            Status::NotSubmitted => &mut unsent,
            _ => &mut failed,
        };
        list.push(phone_line(record, role));
        troubled.insert(record.phone_id.as_str());
    }
    if failed.is_empty() && running.is_empty() && unsent.is_empty() && interruption.is_none() {
        return Diagnostics::new();
    }
    let section = |lines: &[String], heading: String| -> String {
        if lines.is_empty() {
            return String::new();
        }
        let mut text = format!("\n\n{heading}:\n");
        text.push_str(
            &lines
                .iter()
                .take(LISTED_FAILURES)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n"),
        );
        if lines.len() > LISTED_FAILURES {
            text.push_str(&format!(
                "\n  ... and {} more",
                lines.len() - LISTED_FAILURES
            ));
        }
        text
    };
    let total = total.len();
    let (summary, why) = match interruption {
        Some(Interruption::Timeout(t)) => (
            format!("Timed Out Waiting for the {}", title(verb)),
            format!(
                "The invocation's `timeout` of {} passed before every phone finished: nothing more was submitted.",
                humantime::format_duration(*t)
            ),
        ),
        Some(Interruption::Cancelled) => (
            format!("The {} Was Interrupted", title(verb)),
            "Terraform asked the provider to stop while it was submitting or waiting: nothing more was submitted."
                .to_owned(),
        ),
        Some(Interruption::Failed(e)) => (
            format!("The {} Failed", title(verb)),
            format!("{e}: nothing more was submitted."),
        ),
        Some(Interruption::BudgetExceeded { failures, budget }) => (
            format!(
                "The Rollout Stopped: {} Failed, More Than the Budget of {budget}",
                phones_title(*failures)
            ),
            format!(
                "The {verb} rolls out with a failure budget (`rollout.max_failures`) of {}: {failures} failed, so \
                 nothing more was submitted and the phones in flight were waited on.",
                phones(*budget)
            ),
        ),
        None => (
            if total == 1 {
                format!("The {} Failed on 1 of 1 Phone", title(verb))
            } else {
                format!("The {} Failed on {} of {total} Phones", title(verb), troubled.len())
            },
            format!("{} of {} succeeded.", total - troubled.len(), phones(total)),
        ),
    };
    let detail = format!(
        "{type_name}: {why}{}{}{}\n\nAn action keeps nothing in state: a running job goes on at the service, \
         and invoking the action again submits every phone again.",
        section(&failed, "The phones that did not succeed".to_owned()),
        section(
            &running,
            "Still running when the invocation ended (their jobs go on at the service)".to_owned()
        ),
        section(
            &unsent,
            format!("Never submitted ({})", phones(unsent.len()))
        ),
    );
    Diagnostic::error(summary, detail).into()
}

/// The diagnostics of a run's `outcome` in `ctx`.
pub(crate) fn run(outcome: &RunOutcome, ctx: RunContext<'_>) -> Diagnostics {
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
            .map(|r| phone_line(&r.to_record(), ""))
            .collect();
        if failed.len() > LISTED_FAILURES {
            lines.push(format!(
                "  ... and {} more, listed in the resource's records",
                failed.len() - LISTED_FAILURES
            ));
        }
        let of_total = if total == 1 {
            "1 of 1 Phone".to_owned()
        } else {
            format!("{} of {total} Phones", failed.len())
        };
        let summary = format!("The {} Failed on {of_total}", title(ctx.verb));
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
                format!(
                    "The Rollout Stopped: {} Failed, More Than the Budget of {budget}",
                    phones_title(*failures)
                ),
                format!(
                    "The {verb} rolls out with a failure budget (`rollout.max_failures`) of {budget_phones}: {failures} \
                     of {total_phones} failed, so nothing more was submitted; the phones in flight were waited on, \
                     and {unsent_phones} {unsent_were} not submitted (recorded `not_submitted`). The phones that \
                     failed:\n{}{unknown_note}\n\n{} The next apply carries on with the phones that still need the \
                     {verb} and never submits a phone that succeeded again.",
                    lines.join("\n"),
                    ctx.next_step(),
                    verb = ctx.verb,
                    budget_phones = phones(*budget),
                    total_phones = phones(total),
                    unsent_phones = phones(unsent),
                    unsent_were = was(unsent),
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
            "{running} of {} {} still running and {unsent} not yet submitted; every request id and job id known so \
             far is recorded in state. The next apply waits on the running jobs rather than submitting them again. \
             {}",
            phones(total),
            was(running),
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
                format!("The {} Was Interrupted", title(ctx.verb)),
                format!(
                    "Terraform asked the provider to stop while it was submitting or waiting. {kept}"
                ),
            ),
            Interruption::Failed(e) => Diagnostic::error(
                format!("The {} Failed", title(ctx.verb)),
                format!("{e}. {kept}"),
            ),
            // Reported with the failed phones above.
            Interruption::BudgetExceeded { .. } => return diags,
        };
        diags.push(diag);
    }
    diags
}

/// A warning saying what reading the phones recorded `unknown` that need the operation again (their
/// last request may have been performed) found and what followed from it, when any was read.
pub(crate) fn reconciled(
    type_name: &str,
    operation: BatchOperation,
    found: &cph_http::Reconciled,
) -> Diagnostics {
    let read = found.read();
    if read == 0 {
        return Diagnostics::new();
    }
    let mut parts = Vec::new();
    let acted = found.acted();
    if acted > 0 {
        let mut how = Vec::new();
        if found.by_job > 0 {
            how.push(format!(
                "{} with a job of the earlier request",
                found.by_job
            ));
        }
        if let (true, Some(path)) = (found.by_status > 0, operation.status_path()) {
            how.push(format!("{} found {}", found.by_status, path.during.name()));
        }
        parts.push(format!(
            "{} had been acted on ({}) and {} waited on instead of being sent again",
            phones(acted),
            how.join(", "),
            was(acted)
        ));
    }
    if found.resent > 0 {
        parts.push(format!(
            "{} showed no sign of it and {} sent once more",
            phones(found.resent),
            was(found.resent)
        ));
    }
    if found.held > 0 {
        parts.push(format!(
            "{} could not be read and {} not sent (still `unknown`)",
            phones(found.held),
            was(found.held)
        ));
    }
    Diagnostic::warning(
        format!(
            "{} Recorded Unknown {} Read First",
            phones_title(read),
            if read == 1 { "Was" } else { "Were" }
        ),
        format!(
            "{type_name}: {} recorded `unknown` (an earlier {} request may have been performed) {} read before \
             anything was sent: {}.",
            phones(read),
            operation.api_name(),
            was(read),
            parts.join("; ")
        ),
    )
    .into()
}

/// The message of a phone recorded `unknown` that was not sent again because the service could not
/// be read about it.
pub(crate) fn held_unknown(error: &str) -> String {
    format!(
        "not sent again: the earlier request may have been performed, and reading the service to find out \
         failed: {error}"
    )
}

/// The message of a phone not sent because its earlier jobs were still running.
pub(crate) fn still_busy(jobs: &[&Record]) -> String {
    let earlier = jobs
        .iter()
        .filter_map(|r| r.job_id.as_ref().map(|j| j.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "not sent: the phone's earlier job {earlier} was still running when the run ended; it is submitted once \
         that job has finished"
    )
}

/// The message of a follow-up restart not sent because the run ended first.
pub(crate) fn follow_up_cut_short(interruption: Option<&Interruption>) -> String {
    match interruption {
        Some(Interruption::BudgetExceeded { .. }) => "not restarted: the rollout stopped first",
        _ => "not restarted: the run ended first",
    }
    .to_owned()
}

/// The message of a follow-up restart not sent because the main operation did not succeed.
pub(crate) fn follow_up_after_failure(verb: &str) -> String {
    format!("not restarted: the {verb} did not succeed")
}

/// The warning of a refresh whose polling round was cut short.
pub(crate) fn refresh_cut_short(
    type_name: &str,
    verb: &str,
    interruption: &Interruption,
) -> Diagnostic {
    let why = match interruption {
        Interruption::Timeout(t) => format!(
            "the refresh timed out after {}",
            humantime::format_duration(*t)
        ),
        Interruption::Cancelled => "Terraform asked the provider to stop".to_owned(),
        Interruption::Failed(e) => e.clone(),
        Interruption::BudgetExceeded { .. } => "a refresh has no failure budget".to_owned(),
    };
    Diagnostic::warning(
        format!("Running {} Jobs Were Not Refreshed", title(verb)),
        format!(
            "{type_name}: {why}; phones whose jobs were not seen finished stay recorded as running, and the next \
             apply waits on them."
        ),
    )
}

/// What an import id looks like, for an error about one that does not.
pub(crate) fn import_id_form(id: &str, takes_keys: bool) -> String {
    let keys = if takes_keys {
        ", optionally followed by /<key>[,<key>...] to import only those properties"
    } else {
        ""
    };
    format!(
        "import id {} does not name phones as this resource takes them; use <phone_id>[,<phone_id>...]{keys}",
        tfplugin::shown(id)
    )
}

/// An API failure in words, with what to check when the service refused the credentials (the
/// gateway's `APIGW.03xx` codes, or a 401/403): the settings and environment variables to look at.
pub(crate) fn api_failure(error: &cph_http::Error) -> String {
    let credentials = error
        .code()
        .is_some_and(|c| c.starts_with("APIGW.03") || c.starts_with("APIG.03"))
        || matches!(error.status(), Some(401 | 403));
    if credentials {
        format!(
            "{error}. The service refused the credentials: check `access_key` and `secret_key` (HW_ACCESS_KEY, \
             HW_SECRET_KEY; a signature that does not verify usually means a wrong secret key), `security_token` \
             (HW_SECURITY_TOKEN) for temporary credentials, or `auth_token` (HW_AUTH_TOKEN), and that `project_id` \
             (HW_PROJECT_ID) is the project they belong to"
        )
    } else {
        error.to_string()
    }
}

/// A run that gave up on an endpoint that stopped answering (`cph_http::WaitEnd::Unreachable`).
pub(crate) fn unreachable(failing: &cph_http::Failing) -> String {
    format!(
        "the endpoint {} stopped answering: every call to it has failed for {} ({} attempts, none answered), so \
         the provider stopped waiting; the last error: {}",
        failing.endpoint,
        humantime::format_duration(whole_seconds(failing.failing_for)),
        failing.attempts,
        api_failure(&failing.last_error)
    )
}

/// A run whose time ran out while its calls were failing: the endpoint, not the jobs, may be why,
/// so a longer timeout is not the first thing to try.
pub(crate) fn timed_out_failing(
    timeout: std::time::Duration,
    failing: &cph_http::Failing,
) -> String {
    format!(
        "the jobs were not seen finished within {}, and the last polls failed: every call to {} had failed for \
         {} ({} attempts, none answered), the last with: {}. Check that the endpoint is reachable before raising \
         the resource's `timeouts`",
        humantime::format_duration(timeout),
        failing.endpoint,
        humantime::format_duration(whole_seconds(failing.failing_for)),
        failing.attempts,
        api_failure(&failing.last_error)
    )
}

/// `duration` without its fraction of a second, for words.
fn whole_seconds(duration: std::time::Duration) -> std::time::Duration {
    std::time::Duration::from_secs(duration.as_secs())
}

/// A listing of phones that failed: in full the first time the provider process meets this
/// failure, in one line after (Terraform shows each data source's error: ten data sources reading
/// a dead endpoint would repeat the same paragraph ten times).
pub(crate) fn listing_failed(error: &cph_http::Error, data: &crate::ProviderData) -> Diagnostic {
    let failure = api_failure(error);
    // The same failure: the same code, or no answer from the same endpoint for the same reason
    // (attempts and durations differ from one data source to the next).
    let (key, short) = match error {
        cph_http::Error::Transport { endpoint, kind, .. } => (
            format!("{endpoint} {kind}"),
            format!("{endpoint} did not answer ({kind})"),
        ),
        other => {
            let code = other.code().unwrap_or("no error code").to_owned();
            (code.clone(), code)
        }
    };
    if data.first_report(&key) {
        Diagnostic::error("The Phones Could Not Be Listed", failure)
    } else {
        Diagnostic::error(
            "The Phones Could Not Be Listed",
            format!("{short}: the same failure as reported in full for another data source"),
        )
    }
}

/// One line of an action's progress, e.g. `restart: 120/300 done, 2 failed, 60 running`: after a
/// window of the rollout went out it says how many phones were submitted.
pub(crate) fn progress(verb: &str, p: &cph_http::Progress) -> String {
    let done = format!(
        "{}/{} done, {} failed, {} running",
        p.finished, p.total, p.failed, p.in_flight
    );
    let waiting = if p.waiting > 0 {
        format!(", {} waiting", p.waiting)
    } else {
        String::new()
    };
    if p.submitted > 0 {
        format!("{verb}: {} submitted; {done}{waiting}", phones(p.submitted))
    } else {
        format!("{verb}: {done}{waiting}")
    }
}

/// What the journal found of earlier submissions that state does not hold, when it found any.
pub(crate) fn journal_found(type_name: &str, jobs: usize, unsure: usize) -> Diagnostics {
    let found = jobs + unsure;
    if found == 0 {
        return Diagnostics::new();
    }
    let mut parts = Vec::new();
    if jobs > 0 {
        parts.push(format!(
            "{} got a job, which {} waited on instead of sending the phone again",
            phones(jobs),
            was(jobs)
        ));
    }
    if unsure > 0 {
        parts.push(format!(
            "{} went out with no answer written down, and {} read first (sent again only with no sign of it)",
            phones(unsure),
            was(unsure)
        ));
    }
    Diagnostic::warning(
        format!(
            "{} {} Submitted Before by a Run That State Does Not Hold",
            phones_title(found),
            if found == 1 { "Was" } else { "Were" }
        ),
        format!(
            "{type_name}: the submission journal holds requests for these same phones and intents that state does \
             not record (Terraform or the provider was stopped mid-apply, or a tainted resource is being \
             replaced): {}.",
            parts.join("; ")
        ),
    )
    .into()
}

/// The journal could not be opened: nothing is sent.
pub(crate) fn journal_unavailable(error: &str) -> Diagnostic {
    Diagnostic::error(
        "The Submission Journal Could Not Be Opened",
        format!(
            "{error}. Nothing was sent: the provider writes every request down before it goes out, so that a crash \
             never leads to a phone acted on twice."
        ),
    )
}

/// A follow-up restart not sent because the journal could not be opened.
pub(crate) fn journal_blocked() -> String {
    "not restarted: the submission journal could not be opened".to_owned()
}

/// A phone a refresh found the service no longer knows, as an error of the plan at its place in
/// the configuration (`list`: the attribute naming the phones).
pub(crate) fn phone_gone(id: &PhoneId, at: tfplugin::AttributePath, list: &str) -> Diagnostic {
    Diagnostic::error(
        "A Phone No Longer Exists",
        format!(
            "{at}: phone {id} was not found when the resource was refreshed (the service does not list it, or \
             answered {} or 404): it was deleted or never existed in this project. Remove it from `{list}`; its \
             record leaves state with it.",
            cph_types::CPS_NOT_FOUND
        ),
    )
    .with_attribute(at)
}

/// The warning of a refresh that found phones the service no longer knows.
pub(crate) fn phones_gone_warning(
    type_name: &str,
    gone: &std::collections::BTreeSet<String>,
    list: &str,
) -> Diagnostic {
    let n = gone.len();
    let listed: Vec<&str> = gone
        .iter()
        .map(String::as_str)
        .take(LISTED_FAILURES)
        .collect();
    Diagnostic::warning(
        if n == 1 {
            "A Phone No Longer Exists".to_owned()
        } else {
            format!("{n} Phones No Longer Exist")
        },
        format!(
            "{type_name}: the service does not know {}; remove {} from `{list}`.",
            listed.join(", "),
            if n == 1 { "it" } else { "them" }
        ),
    )
}

/// The warnings of a property refresh: phones that could not be read, phones whose managed keys lie
/// beyond the display limit, phones that no longer exist.
pub(crate) fn property_refresh(
    failed: &[String],
    beyond: &[String],
    gone: &std::collections::BTreeSet<String>,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let listed = |lines: &[String]| {
        lines
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    };
    if !failed.is_empty() {
        let n = failed.len();
        diags.push(Diagnostic::warning(
            format!("{} {} Not Refreshed", phones_title(n), if n == 1 { "Was" } else { "Were" }),
            format!(
                "cph_phone_property could not read {}; {} the properties recorded in state, so drift on {} is \
                 not seen until a later refresh reads {}:\n{}",
                if n == 1 { "this phone" } else { "these phones" },
                if n == 1 { "it keeps" } else { "they keep" },
                if n == 1 { "it" } else { "them" },
                if n == 1 { "it" } else { "them" },
                listed(failed)
            ),
        ));
    }
    if !beyond.is_empty() {
        let n = beyond.len();
        diags.push(Diagnostic::warning(
            format!(
                "The Properties of {} Are Beyond the Display Limit",
                phones_title(n)
            ),
            format!(
                "cph_phone_property: ShowCloudPhoneDetail shows at most {} bytes of a phone's properties, and {} at \
                 that limit. The managed keys missing from what it shows cannot be read back: their values in \
                 state are kept, and drift on them is not seen:\n{}",
                cph_types::PROPERTY_SHOWN_BYTES_MAX,
                if n == 1 { "this phone's are" } else { "these phones' are" },
                listed(beyond)
            ),
        ));
    }
    if !gone.is_empty() {
        diags.push(phones_gone_warning("cph_phone_property", gone, "phones"));
    }
    diags
}

/// Reading the phone statuses failed.
pub(crate) fn statuses_unread(error: &str) -> Diagnostic {
    Diagnostic::error("The Phone Statuses Could Not Be Read", error.to_owned())
}

/// A refresh could not read the statuses: the recorded ones stay.
pub(crate) fn statuses_kept(error: Diagnostic) -> Diagnostic {
    Diagnostic::warning(
        "The Phone Statuses Were Not Refreshed",
        format!(
            "cph_phone_power: {}; the statuses recorded in state are kept.",
            error.detail
        ),
    )
}

/// Phones still in a transitional status when the wait ended: nothing was sent to them.
pub(crate) fn still_changing(n: usize, why: Interruption) -> Diagnostic {
    let why = match why {
        Interruption::Cancelled => "Terraform asked the provider to stop".to_owned(),
        Interruption::Timeout(t) => format!("timeout of {}", humantime::format_duration(t)),
        Interruption::Failed(e) => e,
        Interruption::BudgetExceeded { .. } => "the rollout stopped".to_owned(),
    };
    Diagnostic::error(
        format!(
            "{} {} Still Changing State",
            phones_title(n),
            if n == 1 { "Was" } else { "Were" }
        ),
        format!(
            "{} {} still in a transitional status (restarting, stopping, ...) when the wait ended ({why}); nothing \
             was sent to {}. The next apply waits on {} again.",
            phones(n),
            was(n),
            if n == 1 { "it" } else { "them" },
            if n == 1 { "it" } else { "them" },
        ),
    )
}

/// Phones the service does not list, left alone by an apply.
pub(crate) fn phones_not_listed(missing: &[PhoneId], verb: &str) -> Diagnostic {
    let n = missing.len();
    let listed: Vec<&str> = missing
        .iter()
        .take(LISTED_FAILURES)
        .map(PhoneId::as_str)
        .collect();
    Diagnostic::error(
        format!(
            "{} Not Found: Nothing Was Sent to {}",
            phones_title(n),
            if n == 1 { "It" } else { "Them" }
        ),
        format!(
            "cph_phone_power: the service does not list {}, so no {verb} was sent; remove {} from `phone_ids`.",
            listed.join(", "),
            if n == 1 { "it" } else { "them" }
        ),
    )
}

/// An import naming phones the service does not list.
pub(crate) fn import_not_listed(missing: &std::collections::BTreeSet<String>) -> Diagnostic {
    let listed: Vec<&str> = missing.iter().map(String::as_str).collect();
    Diagnostic::error(
        if missing.len() == 1 {
            "A Phone Was Not Found".to_owned()
        } else {
            format!("{} Phones Were Not Found", missing.len())
        },
        format!(
            "cannot import phones {}: the service does not list them",
            listed.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use cph_types::JobId;

    use super::*;
    use crate::runner::PhoneResult;

    fn result(phone: &str, status: Status, code: &str) -> PhoneResult {
        PhoneResult {
            phone_id: cph_types::PhoneId::new(phone).unwrap(),
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
            ..RunOutcome::default()
        }
    }

    fn ctx(creating: bool, allow_partial: bool) -> RunContext<'static> {
        RunContext {
            type_name: "cph_phone_restart",
            verb: "restart",
            recorded: if creating {
                Recorded::Tainted
            } else {
                Recorded::Updated
            },
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
        let diags = run(&o, ctx(true, false));
        let d = diags.iter().next().unwrap();
        assert_eq!(d.summary, "The Restart Failed on 2 of 3 Phones");
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
        let update = run(&o, ctx(false, false));
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
        let diags = run(&o, ctx(true, true));
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
        let diags = run(&o, ctx(false, true));
        let d = diags.iter().next().unwrap();
        assert_eq!(d.summary, "Timed Out Waiting for the Restart");
        assert!(
            d.detail.contains("within 2s") && d.detail.contains("1 of 3 phones was still running"),
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
        let diags = run(&o, ctx(true, true));
        assert_eq!(diags.iter().count(), 1);
        let d = diags.iter().next().unwrap();
        assert!(diags.has_errors());
        assert_eq!(
            d.summary,
            "The Rollout Stopped: 2 Phones Failed, More Than the Budget of 1"
        );
        for expected in [
            "phone p2 (job job-p2): failed CPS.0003",
            "phone p3: rejected CPS.0005",
            "1 phone was not submitted",
            "terraform untaint",
        ] {
            assert!(d.detail.contains(expected), "{expected}: {}", d.detail);
        }
    }

    #[test]
    fn an_ambiguous_submission_is_said_to_maybe_have_acted() {
        let o = outcome(vec![result("p1", Status::Unknown, "")], None);
        let diags = run(&o, ctx(false, false));
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
        assert!(run(&ok, ctx(true, false)).is_empty());
        let many = (0..250)
            .map(|i| result(&format!("p{i}"), Status::Failed, "CPS.0003"))
            .collect();
        let diags = run(&outcome(many, None), ctx(true, false));
        assert!(
            diags
                .iter()
                .next()
                .unwrap()
                .detail
                .contains("... and 50 more")
        );
    }

    /// Every summary this module words, for `n` phones (of `n` in all).
    fn every_summary(n: usize) -> Vec<String> {
        let ids: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
        let failed: Vec<PhoneResult> = ids
            .iter()
            .map(|p| result(p, Status::Failed, "CPS.0003"))
            .collect();
        let running: Vec<PhoneResult> =
            ids.iter().map(|p| result(p, Status::Running, "")).collect();
        let unknown: Vec<PhoneResult> =
            ids.iter().map(|p| result(p, Status::Unknown, "")).collect();
        let mut diags = Diagnostics::new();
        diags.extend(run(&outcome(failed.clone(), None), ctx(false, false)));
        diags.extend(run(
            &outcome(
                failed,
                Some(Interruption::BudgetExceeded {
                    failures: n,
                    budget: n,
                }),
            ),
            ctx(false, false),
        ));
        for interruption in [
            Interruption::Timeout(Duration::from_secs(1)),
            Interruption::Cancelled,
            Interruption::Failed("the endpoint went away".into()),
        ] {
            diags.extend(run(
                &outcome(running.clone(), Some(interruption.clone())),
                ctx(false, false),
            ));
            diags.push(refresh_cut_short(
                "cph_phone_restart",
                "property update",
                &interruption,
            ));
        }
        diags.extend(lost_in_refresh(
            "cph_phone_restart",
            &outcome(unknown, None),
        ));
        let summary = Summary {
            total: n,
            new: n,
            ..Summary::default()
        };
        diags.push(plan_summary(
            "cph_phone_restart",
            "restarted",
            &summary,
            &[],
        ));
        let found = cph_http::Reconciled {
            resent: n,
            ..cph_http::Reconciled::default()
        };
        diags.extend(reconciled(
            "cph_phone_restart",
            BatchOperation::Restart,
            &found,
        ));
        let records: Vec<Record> = ids
            .iter()
            .map(|p| result(p, Status::Failed, "CPS.0003").to_record())
            .collect();
        diags.extend(invocation(
            "cph_phone_restart",
            "restart",
            records.iter().map(|r| (false, r)),
            None,
        ));
        diags.iter().map(|d| d.summary.clone()).collect()
    }

    #[test]
    fn an_invocation_names_each_failed_running_and_unsent_phone_and_is_silent_on_success() {
        let records: Vec<Record> = [
            result("p1", Status::Success, ""),
            result("p2", Status::Failed, "CPS.0003"),
            result("p3", Status::Rejected, "CPS.0104"),
            result("p4", Status::Running, ""),
            result("p5", Status::NotSubmitted, "not_submitted"),
            result("p6", Status::Unknown, ""),
        ]
        .iter()
        .map(PhoneResult::to_record)
        .collect();
        let ok = invocation(
            "cph_phone_restart",
            "restart",
            records[..1].iter().map(|r| (false, r)),
            None,
        );
        assert!(ok.is_empty(), "{ok:?}");
        let diags = invocation(
            "cph_phone_restart",
            "restart",
            records.iter().map(|r| (false, r)),
            Some(&Interruption::Cancelled),
        );
        let all: Vec<&Diagnostic> = diags.iter().collect();
        assert_eq!(all.len(), 1);
        let d = all[0];
        assert!(diags.has_errors());
        assert_eq!(d.summary, "The Restart Was Interrupted");
        for line in [
            "phone p2 (job job-p2): failed CPS.0003: went wrong",
            "phone p3: rejected CPS.0104: went wrong",
            "phone p6 (job job-p6): unknown",
            "Still running when the invocation ended (their jobs go on at the service):\n  phone p4 (job job-p4): running",
            "Never submitted (1 phone):\n  phone p5",
        ] {
            assert!(d.detail.contains(line), "{line} not in {}", d.detail);
        }
        assert!(!d.detail.contains("phone p1"), "{}", d.detail);
        // A follow-up restart's job is named as such.
        let follow = invocation(
            "cph_phone_restore",
            "restore",
            records[1..2].iter().map(|r| (true, r)),
            None,
        );
        assert!(
            follow
                .iter()
                .next()
                .unwrap()
                .detail
                .contains("phone p2 (restart job job-p2): failed"),
            "{}",
            follow.iter().next().unwrap().detail
        );
    }

    #[test]
    fn every_summary_is_a_sentence_whatever_the_count() {
        assert_eq!(
            every_summary(1),
            [
                "The Restart Failed on 1 of 1 Phone",
                "The Rollout Stopped: 1 Phone Failed, More Than the Budget of 1",
                "Timed Out Waiting for the Restart",
                "Running Property Update Jobs Were Not Refreshed",
                "The Restart Was Interrupted",
                "Running Property Update Jobs Were Not Refreshed",
                "The Restart Failed",
                "Running Property Update Jobs Were Not Refreshed",
                "A Running Job Is No Longer Known",
                "1 of 1 Phone Needs Work",
                "1 Phone Recorded Unknown Was Read First",
                "The Restart Failed on 1 of 1 Phone",
            ]
        );
        assert_eq!(
            every_summary(2),
            [
                "The Restart Failed on 2 of 2 Phones",
                "The Rollout Stopped: 2 Phones Failed, More Than the Budget of 2",
                "Timed Out Waiting for the Restart",
                "Running Property Update Jobs Were Not Refreshed",
                "The Restart Was Interrupted",
                "Running Property Update Jobs Were Not Refreshed",
                "The Restart Failed",
                "Running Property Update Jobs Were Not Refreshed",
                "2 Running Jobs Are No Longer Known",
                "2 of 2 Phones Need Work",
                "2 Phones Recorded Unknown Were Read First",
                "The Restart Failed on 2 of 2 Phones",
            ]
        );
        for n in [1, 2] {
            for summary in every_summary(n) {
                assert!(
                    !summary.contains("1 Phones") && !summary.contains(" To "),
                    "{summary}"
                );
            }
        }
    }
}
