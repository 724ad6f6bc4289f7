//! The per-phone planner, a pure function: from the prior records and inputs of each phone, the
//! desired phones and whether a follow-up restart is on, what each phone needs in this apply. Plan
//! and apply both call it, so the phones a plan shows as changing are exactly those apply acts on.
//!
//! A phone needs work when it is new, its own inputs changed (or are not known yet), or its last
//! record is not `success`; a phone whose job is still running needs waiting, never a second
//! submission. Phones left out of the list leave state; the order of the list does not matter.

use std::collections::HashMap;

use tfplugin::Maybe;

use crate::records::{Record, Records, Status};

/// Why a phone is submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reason {
    /// It is new in the list.
    New,
    /// Its own inputs changed.
    InputsChanged,
    /// It holds something other than its inputs ask for, as read from the service (a resource that
    /// reads its phones back: drift, or a change of the configuration).
    Differs,
    /// Some of its inputs are known only at apply time.
    InputsUnknown,
    /// Its last attempt did not succeed.
    Retry(Status),
    /// It is listed but has no record of being acted on.
    NeverDone,
    /// Its main operation is performed (again), so its follow-up restart is too.
    AfterMain,
}

/// What one phone needs from one operation in this apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Work {
    /// Nothing: its record stands.
    Keep,
    /// Its recorded job is still running: wait on it (never submit it again).
    Wait,
    /// Submit it.
    Submit(Reason),
}

impl Work {
    pub(crate) fn is_keep(&self) -> bool {
        *self == Work::Keep
    }
}

/// What one desired phone needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PhonePlan<'a> {
    pub(crate) phone_id: &'a str,
    /// The main operation (restart, reset, restore, property update).
    pub(crate) main: Work,
    /// The follow-up restart, when the resource has one and it is on.
    pub(crate) follow: Option<Work>,
    /// Jobs of the phone still running that must end before it is submitted again (a submission
    /// to a busy phone is refused).
    pub(crate) busy: Vec<&'a Record>,
}

/// How the planner treats a resource's phones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Whether a listed phone without a record needs the operation: true for actions, false where
    /// the prior state was read from the service (an imported `cph_phone_property`).
    pub(crate) unrecorded_needs_work: bool,
    /// Whether the follow-up restart is on.
    pub(crate) follow_up: bool,
    /// Whether the prior inputs are the phone as the service shows it now (a declared-state
    /// resource such as `cph_phone_power`): a phone that already matches needs nothing, whatever
    /// its last record says.
    pub(crate) observed: bool,
    /// Whether the prior inputs were read back from the service (`cph_phone_property`): a phone
    /// whose inputs differ from them differs from what it holds.
    pub(crate) reads_back: bool,
}

/// What the prior state says: each phone's inputs, and the records of the main operation and of
/// the follow-up restart.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prior<'a, I> {
    pub(crate) inputs: &'a HashMap<&'a str, &'a I>,
    pub(crate) main: &'a Records,
    pub(crate) follow: &'a Records,
}

/// Plans every desired phone, in the order given. `met_by(desired, prior)` says whether a phone
/// given `prior` inputs already has the `desired` ones. Linear in the number of phones: one look-up
/// and at most one comparison of inputs per phone.
pub(crate) fn plan<'a, I>(
    prior: Prior<'a, I>,
    desired: &[(&'a str, Option<&I>)],
    policy: Policy,
    met_by: impl Fn(&I, &I) -> bool,
) -> Vec<PhonePlan<'a>> {
    desired
        .iter()
        .map(|&(phone_id, inputs)| {
            let record = prior.main.get(phone_id).and_then(Maybe::known);
            let follow_record = prior.follow.get(phone_id).and_then(Maybe::known);
            let main = main_work(
                prior.inputs.get(phone_id).copied(),
                record,
                inputs,
                policy,
                &met_by,
            );
            let follow = policy.follow_up.then(|| follow_work(&main, follow_record));
            let busy = if matches!(main, Work::Submit(_)) {
                [record, follow_record]
                    .into_iter()
                    .flatten()
                    .filter(|r| r.status == Status::Running)
                    .collect()
            } else {
                Vec::new()
            };
            PhonePlan {
                phone_id,
                main,
                follow,
                busy,
            }
        })
        .collect()
}

fn main_work<I>(
    prior: Option<&I>,
    record: Option<&Record>,
    desired: Option<&I>,
    policy: Policy,
    met_by: &impl Fn(&I, &I) -> bool,
) -> Work {
    let Some(prior) = prior else {
        return Work::Submit(Reason::New);
    };
    let Some(desired) = desired else {
        return Work::Submit(Reason::InputsUnknown);
    };
    let met = met_by(desired, prior);
    if policy.observed {
        return if met {
            Work::Keep
        } else {
            Work::Submit(Reason::Differs)
        };
    }
    let changed = if policy.reads_back {
        Reason::Differs
    } else {
        Reason::InputsChanged
    };
    match record.map(|r| &r.status) {
        // A job still running is waited on; with new inputs, it is waited on and then submitted.
        Some(Status::Running) if met => Work::Wait,
        Some(Status::Running) => Work::Submit(changed),
        Some(Status::Success) if met => Work::Keep,
        Some(Status::Success) => Work::Submit(changed),
        // Whatever the inputs, a phone whose last attempt did not succeed is retried as such.
        Some(other) => Work::Submit(Reason::Retry(other.clone())),
        None if !met => Work::Submit(changed),
        None if policy.unrecorded_needs_work => Work::Submit(Reason::NeverDone),
        None => Work::Keep,
    }
}

fn follow_work(main: &Work, record: Option<&Record>) -> Work {
    if !main.is_keep() {
        return Work::Submit(Reason::AfterMain);
    }
    match record.map(|r| &r.status) {
        Some(Status::Success) => Work::Keep,
        Some(Status::Running) => Work::Wait,
        Some(other) => Work::Submit(Reason::Retry(other.clone())),
        None => Work::Submit(Reason::NeverDone),
    }
}

/// How many phones need what, for the plan's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) total: usize,
    pub(crate) new: usize,
    pub(crate) changed: usize,
    pub(crate) differs: usize,
    pub(crate) unknown_inputs: usize,
    pub(crate) never_done: usize,
    /// Last attempt not successful, by status.
    pub(crate) retried: Vec<(Status, usize)>,
    pub(crate) waited: usize,
    /// Phones whose only work is the follow-up restart.
    pub(crate) follow_only: usize,
}

impl Summary {
    pub(crate) fn of(plans: &[PhonePlan<'_>]) -> Summary {
        let mut s = Summary {
            total: plans.len(),
            ..Summary::default()
        };
        for p in plans {
            match &p.main {
                Work::Keep => {
                    if p.follow.as_ref().is_some_and(|f| !f.is_keep()) {
                        s.follow_only += 1;
                    }
                }
                Work::Wait => s.waited += 1,
                Work::Submit(Reason::New) => s.new += 1,
                Work::Submit(Reason::InputsChanged) => s.changed += 1,
                Work::Submit(Reason::Differs) => s.differs += 1,
                Work::Submit(Reason::InputsUnknown) => s.unknown_inputs += 1,
                Work::Submit(Reason::NeverDone | Reason::AfterMain) => s.never_done += 1,
                Work::Submit(Reason::Retry(status)) => {
                    match s.retried.iter_mut().find(|(st, _)| st == status) {
                        Some((_, n)) => *n += 1,
                        None => s.retried.push((status.clone(), 1)),
                    }
                }
            }
        }
        s
    }

    /// How many phones need anything.
    pub(crate) fn working(&self) -> usize {
        self.new
            + self.changed
            + self.differs
            + self.unknown_inputs
            + self.never_done
            + self.waited
            + self.follow_only
            + self.retried.iter().map(|(_, n)| n).sum::<usize>()
    }

    /// Whether any phone needs anything.
    pub(crate) fn any_work(&self) -> bool {
        self.working() > 0
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn record(phone: &str, status: Status) -> Record {
        Record {
            job_id: Some(cph_types::JobId::new(format!("job-{phone}")).unwrap()),
            status,
            ..Record::not_submitted(&cph_types::PhoneId::new(phone).unwrap(), "")
        }
    }

    fn records(list: &[(&str, Status)]) -> Records {
        list.iter()
            .map(|(p, s)| ((*p).to_owned(), Maybe::Known(record(p, s.clone()))))
            .collect()
    }

    const ACTION: Policy = Policy {
        unrecorded_needs_work: true,
        follow_up: false,
        observed: false,
        reads_back: false,
    };

    /// Plans `desired` against prior phones (id, inputs) and records; returns (id, main, follow).
    fn run(
        prior: &[(&str, u32)],
        main: &Records,
        follow: &Records,
        desired: &[(&str, Option<u32>)],
        policy: Policy,
    ) -> Vec<(String, Work, Option<Work>)> {
        let inputs: HashMap<&str, &u32> = prior.iter().map(|(id, i)| (*id, i)).collect();
        let desired: Vec<(&str, Option<&u32>)> =
            desired.iter().map(|(id, i)| (*id, i.as_ref())).collect();
        let prior = Prior {
            inputs: &inputs,
            main,
            follow,
        };
        plan(prior, &desired, policy, u32::eq)
            .into_iter()
            .map(|p| (p.phone_id.to_owned(), p.main, p.follow))
            .collect()
    }

    fn mains(plans: Vec<(String, Work, Option<Work>)>) -> Vec<Work> {
        plans.into_iter().map(|(_, w, _)| w).collect()
    }

    #[test]
    fn each_phone_gets_the_work_its_own_history_and_inputs_call_for() {
        use Work::{Keep, Submit, Wait};
        let prior = [
            ("ok", 1),
            ("fail", 1),
            ("rej", 1),
            ("run", 1),
            ("unk", 1),
            ("ns", 1),
            ("chg", 1),
            ("bare", 1),
        ];
        let main = records(&[
            ("ok", Status::Success),
            ("fail", Status::Failed),
            ("rej", Status::Rejected),
            ("run", Status::Running),
            ("unk", Status::Unknown),
            ("ns", Status::NotSubmitted),
            ("chg", Status::Success),
        ]);
        // (desired phone, its inputs, expected work)
        let table: Vec<(&str, Option<u32>, Work)> = vec![
            ("ok", Some(1), Keep),
            ("fail", Some(1), Submit(Reason::Retry(Status::Failed))),
            ("rej", Some(1), Submit(Reason::Retry(Status::Rejected))),
            ("run", Some(1), Wait),
            ("unk", Some(1), Submit(Reason::Retry(Status::Unknown))),
            ("ns", Some(1), Submit(Reason::Retry(Status::NotSubmitted))),
            ("chg", Some(2), Submit(Reason::InputsChanged)),
            ("ok2", Some(1), Submit(Reason::New)),
            ("bare", Some(1), Submit(Reason::NeverDone)),
        ];
        let desired: Vec<(&str, Option<u32>)> = table.iter().map(|(p, i, _)| (*p, *i)).collect();
        let expected: Vec<Work> = table.into_iter().map(|(_, _, w)| w).collect();
        assert_eq!(
            mains(run(&prior, &main, &Records::new(), &desired, ACTION)),
            expected
        );
    }

    #[test]
    fn removing_or_reordering_phones_plans_nothing_for_the_rest() {
        let prior = [("a", 1), ("b", 1), ("c", 1)];
        let main = records(&[
            ("a", Status::Success),
            ("b", Status::Success),
            ("c", Status::Success),
        ]);
        let plans = run(
            &prior,
            &main,
            &Records::new(),
            &[("c", Some(1)), ("a", Some(1))],
            ACTION,
        );
        assert_eq!(
            plans
                .iter()
                .map(|(id, w, _)| (id.as_str(), w.clone()))
                .collect::<Vec<_>>(),
            vec![("c", Work::Keep), ("a", Work::Keep)]
        );
    }

    #[test]
    fn unknown_inputs_are_submitted_and_a_running_phone_with_new_inputs_waits_first() {
        let prior = [("a", 1), ("b", 1)];
        let main = records(&[("a", Status::Success), ("b", Status::Running)]);
        let inputs: HashMap<&str, &u32> = prior.iter().map(|(id, i)| (*id, i)).collect();
        let desired = [("a", None), ("b", Some(&2))];
        let follow = Records::new();
        let plans = plan(
            Prior {
                inputs: &inputs,
                main: &main,
                follow: &follow,
            },
            &desired,
            ACTION,
            u32::eq,
        );
        assert_eq!(plans[0].main, Work::Submit(Reason::InputsUnknown));
        assert!(plans[0].busy.is_empty());
        assert_eq!(plans[1].main, Work::Submit(Reason::InputsChanged));
        assert_eq!(plans[1].busy, vec![main["b"].known().unwrap()]);
    }

    #[test]
    fn an_imported_phone_without_a_record_needs_nothing_when_its_inputs_match() {
        let policy = Policy {
            unrecorded_needs_work: false,
            follow_up: false,
            observed: false,
            reads_back: false,
        };
        let plans = run(
            &[("a", 1), ("b", 1)],
            &Records::new(),
            &Records::new(),
            &[("a", Some(1)), ("b", Some(3))],
            policy,
        );
        assert_eq!(
            mains(plans),
            vec![Work::Keep, Work::Submit(Reason::InputsChanged)]
        );
        let read_back = Policy {
            reads_back: true,
            ..policy
        };
        let plans = run(
            &[("a", 1), ("b", 1)],
            &Records::new(),
            &Records::new(),
            &[("a", Some(1)), ("b", Some(3))],
            read_back,
        );
        assert_eq!(
            mains(plans),
            vec![Work::Keep, Work::Submit(Reason::Differs)]
        );
    }

    #[test]
    fn follow_up_restarts_follow_the_main_operation_and_their_own_records() {
        use Work::{Keep, Submit, Wait};
        let policy = Policy {
            unrecorded_needs_work: true,
            follow_up: true,
            observed: false,
            reads_back: false,
        };
        let prior = [
            ("done", 1),
            ("fresh", 1),
            ("rfail", 1),
            ("rrun", 1),
            ("mfail", 1),
            ("norestart", 1),
        ];
        let main = records(&[
            ("done", Status::Success),
            ("rfail", Status::Success),
            ("rrun", Status::Success),
            ("mfail", Status::Failed),
            ("norestart", Status::Success),
        ]);
        let follow = records(&[
            ("done", Status::Success),
            ("rfail", Status::Failed),
            ("rrun", Status::Running),
            ("mfail", Status::NotSubmitted),
        ]);
        let desired = [
            ("done", Some(1)),
            ("fresh", Some(1)),
            ("rfail", Some(1)),
            ("rrun", Some(1)),
            ("mfail", Some(1)),
            ("norestart", Some(1)),
        ];
        let follows: Vec<(String, Work, Option<Work>)> =
            run(&prior, &main, &follow, &desired, policy);
        let got: Vec<(&str, Work, Work)> = follows
            .iter()
            .map(|(id, m, f)| (id.as_str(), m.clone(), f.clone().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("done", Keep, Keep),
                (
                    "fresh",
                    Submit(Reason::NeverDone),
                    Submit(Reason::AfterMain)
                ),
                ("rfail", Keep, Submit(Reason::Retry(Status::Failed))),
                ("rrun", Keep, Wait),
                (
                    "mfail",
                    Submit(Reason::Retry(Status::Failed)),
                    Submit(Reason::AfterMain)
                ),
                // Turned on later: the phone that succeeded and was never restarted is restarted.
                ("norestart", Keep, Submit(Reason::NeverDone)),
            ]
        );
        // Off: no follow-up work at all.
        let off = run(&prior, &main, &follow, &desired, ACTION);
        assert!(off.iter().all(|(_, _, f)| f.is_none()));
    }

    #[test]
    fn an_observed_phone_that_matches_needs_nothing_whatever_its_record_says() {
        let policy = Policy {
            unrecorded_needs_work: false,
            follow_up: false,
            observed: true,
            reads_back: false,
        };
        // Observed now: a is as wanted (its last attempt failed), b is not, c has no record.
        let observed = [("a", 1), ("b", 2), ("c", 1)];
        let main = records(&[("a", Status::Failed), ("b", Status::Success)]);
        let plans = run(
            &observed,
            &main,
            &Records::new(),
            &[("a", Some(1)), ("b", Some(1)), ("c", Some(1))],
            policy,
        );
        assert_eq!(
            mains(plans),
            vec![Work::Keep, Work::Submit(Reason::Differs), Work::Keep]
        );
    }

    /// Inputs that count how often they are compared.
    #[derive(Debug)]
    struct Counted<'c>(u32, &'c Cell<usize>);

    impl PartialEq for Counted<'_> {
        fn eq(&self, other: &Self) -> bool {
            self.1.set(self.1.get() + 1);
            self.0 == other.0
        }
    }

    #[test]
    fn ten_thousand_phones_cost_one_comparison_each_and_adding_one_submits_only_it() {
        let compared = Cell::new(0);
        let ids: Vec<String> = (0..10_001).map(|i| format!("{i:032x}")).collect();
        let inputs: Vec<Counted<'_>> = (0..10_001).map(|_| Counted(7, &compared)).collect();
        let prior_inputs: HashMap<&str, &Counted<'_>> = ids[..10_000]
            .iter()
            .map(String::as_str)
            .zip(&inputs)
            .collect();
        let main: Records = ids[..10_000]
            .iter()
            .map(|id| (id.clone(), Maybe::Known(record(id, Status::Success))))
            .collect();
        let follow = Records::new();
        // The desired list is the prior one reversed, plus one new phone.
        let desired: Vec<(&str, Option<&Counted<'_>>)> = ids
            .iter()
            .rev()
            .map(String::as_str)
            .zip(inputs.iter().map(Some))
            .collect();
        let plans = plan(
            Prior {
                inputs: &prior_inputs,
                main: &main,
                follow: &follow,
            },
            &desired,
            ACTION,
            Counted::eq,
        );
        assert_eq!(compared.get(), 10_000, "one comparison per prior phone");
        let submitted: Vec<&str> = plans
            .iter()
            .filter(|p| !p.main.is_keep())
            .map(|p| p.phone_id)
            .collect();
        assert_eq!(submitted, vec![ids[10_000].as_str()]);
        let summary = Summary::of(&plans);
        assert_eq!(summary.new, 1);
        assert_eq!(summary.total, 10_001);
    }

    #[test]
    fn the_summary_counts_how_many_phones_need_what_and_why() {
        let prior = [("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 1)];
        let main = records(&[
            ("a", Status::Failed),
            ("b", Status::Failed),
            ("c", Status::Failed),
            ("d", Status::Running),
            ("e", Status::Success),
        ]);
        let inputs: HashMap<&str, &u32> = prior.iter().map(|(id, i)| (*id, i)).collect();
        let desired = [
            ("a", Some(&1)),
            ("b", Some(&1)),
            ("c", Some(&1)),
            ("d", Some(&1)),
            ("e", Some(&1)),
            ("f", Some(&1)),
        ];
        let follow = Records::new();
        let plans = plan(
            Prior {
                inputs: &inputs,
                main: &main,
                follow: &follow,
            },
            &desired,
            ACTION,
            u32::eq,
        );
        let summary = Summary::of(&plans);
        assert!(summary.any_work());
        assert_eq!(
            (summary.retried.clone(), summary.waited, summary.new),
            (vec![(Status::Failed, 3)], 1, 1)
        );
        let quiet = Summary::of(&plans[4..5]);
        assert!(!quiet.any_work());
    }
}
