//! The `rollout` block: how many phones may have an unfinished job at once (`max_in_flight`) and how
//! many may fail before the rollout stops (`max_failures`), each a whole number or a percentage of
//! the phones that need work in the apply, in the vocabulary of AWS SSM's `max_concurrency` and
//! `max_errors`.

use std::num::NonZeroUsize;

use cph_http::Rollout;
use tfplugin::{Attribute, Block, Maybe, NestedBlock, Type, Validator};

use crate::attributes::Surface;
use crate::model::{RolloutModel, names};

/// A number of phones, or a percentage of the phones that need work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Amount {
    Phones(usize),
    Percent(u8),
}

impl Amount {
    /// Parses `"10"` or `"10%"`; `least` is the smallest number (or percentage) allowed.
    fn parse(text: &str, least: usize) -> Result<Amount, String> {
        let trimmed = text.trim();
        let problem = || {
            format!(
                "{text:?} is neither a whole number of phones (at least {least}) nor a percentage from {least}% to \
                 100%; write e.g. \"10\" or \"10%\""
            )
        };
        if let Some(percent) = trimmed.strip_suffix('%') {
            let p: u8 = percent.trim().parse().map_err(|_| problem())?;
            if usize::from(p) < least || p > 100 {
                return Err(problem());
            }
            return Ok(Amount::Percent(p));
        }
        match trimmed.parse::<usize>() {
            Ok(n) if n >= least => Ok(Amount::Phones(n)),
            _ => Err(problem()),
        }
    }

    /// The number of phones of `total` this amount is; percentages rounded up (`round_up`) or down.
    fn of(self, total: usize, round_up: bool) -> usize {
        match self {
            Amount::Phones(n) => n,
            Amount::Percent(p) => {
                let scaled = total.saturating_mul(usize::from(p));
                if round_up {
                    scaled.div_ceil(100)
                } else {
                    scaled / 100
                }
            }
        }
    }
}

/// The least `max_in_flight` (one phone at a time) and `max_failures` (stop at the first failure).
const LEAST_IN_FLIGHT: usize = 1;
const LEAST_FAILURES: usize = 0;

/// A resource's rollout as configured: `None` for what the block leaves unset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RolloutSpec {
    pub(crate) max_in_flight: Option<Amount>,
    pub(crate) max_failures: Option<Amount>,
}

impl RolloutSpec {
    /// The rollout of a `rollout` block; none without it. Values were validated before any
    /// apply, so text that does not parse here means unset.
    pub(crate) fn of(block: &Maybe<RolloutModel>) -> RolloutSpec {
        let Some(block) = block.known() else {
            return RolloutSpec::default();
        };
        let amount = |text: &Maybe<String>, least| {
            text.known()
                .and_then(|text| Amount::parse(text, least).ok())
        };
        RolloutSpec {
            max_in_flight: amount(&block.max_in_flight, LEAST_IN_FLIGHT),
            max_failures: amount(&block.max_failures, LEAST_FAILURES),
        }
    }

    /// The rollout of `total` phones that need work: in flight rounded up to at least one,
    /// failures rounded down.
    pub(crate) fn resolve(self, total: usize) -> Rollout {
        Rollout {
            max_in_flight: self
                .max_in_flight
                .map(|a| NonZeroUsize::new(a.of(total, true)).unwrap_or(NonZeroUsize::MIN)),
            max_failures: self.max_failures.map(|a| a.of(total, false)),
        }
    }
}

fn amount_validator(least: usize) -> Validator {
    Validator::string(
        "Invalid Rollout Value",
        format!("a whole number of phones (at least {least}) or a percentage such as `10%`"),
        move |text| Amount::parse(text, least).map(drop),
    )
}

/// The `rollout` block.
pub(crate) fn rollout_block(verb: &str, surface: Surface) -> NestedBlock {
    let (phones, stopped) = match surface {
        Surface::Resource => (
            "the phones that need work in the apply",
            format!(
                "the rest are recorded `not_submitted`, and the apply fails; the next apply carries on with the phones \
                 that still need the {verb}"
            ),
        ),
        Surface::Action => (
            "the phones of the invocation",
            "the rest are never submitted (the error names them), and the invocation fails"
                .to_owned(),
        ),
    };
    let block = Block::new()
        .description(format!(
            "Roll the {verb} out in waves instead of all at once. Each value is a whole number of phones or a \
             percentage of {phones} (`\"10\"` or `\"10%\"`).{}",
            surface.on_change("Changing it only updates state.")
        ))
        .attribute(
            Attribute::optional(names::MAX_IN_FLIGHT, Type::String)
                .description(
                    "At most this many phones with an unfinished job at any moment: as phones finish, the next ones \
                     (in the order of the list) are submitted. A percentage is rounded up, to at least one phone. \
                     Unset: every phone at once.",
                )
                .validator(amount_validator(LEAST_IN_FLIGHT)),
        )
        .attribute(
            Attribute::optional(names::MAX_FAILURES, Type::String)
                .description(format!(
                    "When more phones than this have failed (a failed job or a rejection), nothing more is \
                     submitted: the phones in flight are waited on, {stopped}. A percentage is rounded down; `\"0\"` \
                     stops at the first failure. Unset: no budget."
                ))
                .validator(amount_validator(LEAST_FAILURES)),
        );
    NestedBlock::single(names::ROLLOUT, block)
}

#[cfg(test)]
mod tests {
    use tfplugin::Value;

    use super::*;

    #[test]
    fn numbers_and_percentages_parse_and_bad_ones_say_why() {
        assert_eq!(Amount::parse("10", 1), Ok(Amount::Phones(10)));
        assert_eq!(Amount::parse(" 10% ", 1), Ok(Amount::Percent(10)));
        assert_eq!(Amount::parse("0", 0), Ok(Amount::Phones(0)));
        for (bad, least) in [
            ("0", 1),
            ("0%", 1),
            ("150%", 0),
            ("ten", 1),
            ("-1", 0),
            ("", 0),
            ("1.5", 1),
            ("%", 0),
        ] {
            let err = Amount::parse(bad, least).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
    }

    #[test]
    fn percentages_round_in_flight_up_to_at_least_one_and_failures_down() {
        let spec = RolloutSpec {
            max_in_flight: Some(Amount::Percent(10)),
            max_failures: Some(Amount::Percent(1)),
        };
        let r = spec.resolve(25);
        assert_eq!(r.max_in_flight, NonZeroUsize::new(3));
        assert_eq!(r.max_failures, Some(0));
        let r = spec.resolve(3);
        assert_eq!(r.max_in_flight, NonZeroUsize::new(1));
        let r = spec.resolve(1000);
        assert_eq!(
            (r.max_in_flight.map(NonZeroUsize::get), r.max_failures),
            (Some(100), Some(10))
        );
        assert_eq!(RolloutSpec::default().resolve(10), Rollout::default());
        let fixed = RolloutSpec {
            max_in_flight: Some(Amount::Phones(50)),
            max_failures: Some(Amount::Phones(2)),
        };
        assert_eq!(fixed.resolve(10).max_in_flight, NonZeroUsize::new(50));
        assert_eq!(fixed.resolve(10).max_failures, Some(2));
    }

    #[test]
    fn the_block_checks_each_value_at_its_path_and_reads_back() {
        let schema = tfplugin::Schema::new(
            0,
            Block::new().block(rollout_block("restart", Surface::Resource)),
        );
        let config = |in_flight: &str, failures: &str| {
            Value::object([(
                "rollout",
                Value::object([
                    ("max_in_flight", Value::from(in_flight)),
                    ("max_failures", Value::from(failures)),
                ]),
            )])
        };
        let diags = schema.validate(&config("0", "-1"));
        let paths: Vec<String> = diags
            .iter()
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(paths, ["rollout.max_in_flight", "rollout.max_failures"]);
        assert!(schema.validate(&config("150%", "x")).has_errors());
        assert!(schema.validate(&config("10%", "0")).is_empty());
        let block: Maybe<RolloutModel> =
            tfplugin::from_value(config("10%", "2").get(names::ROLLOUT).unwrap()).unwrap();
        assert_eq!(
            RolloutSpec::of(&block),
            RolloutSpec {
                max_in_flight: Some(Amount::Percent(10)),
                max_failures: Some(Amount::Phones(2)),
            }
        );
        assert_eq!(RolloutSpec::of(&Maybe::Null), RolloutSpec::default());
    }
}
