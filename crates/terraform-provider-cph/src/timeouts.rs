//! Durations as users write them (`30s`, `10m`, `1h30m`), with sane bounds, and the `timeouts`
//! block every resource shares: how long create, update and read may take.

use std::time::Duration;

use tfplugin::{Attribute, Block, Maybe, NestedBlock, Type, Validator};

use crate::model::{TimeoutsModel, names};

/// How long an operation may take when `timeouts` says nothing.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The longest duration accepted anywhere (a week): longer is a typo, and would overflow clocks.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Parses a duration such as `30s`, `10m`, `1h30m` or `500ms`, greater than zero and at most
/// [`MAX_DURATION`]; the error says what was wrong with the text.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d.is_zero() => Err(format!("duration {text:?} must be greater than zero")),
        Ok(d) if d > MAX_DURATION => Err(format!(
            "duration {text:?} is longer than the limit of {}",
            humantime::format_duration(MAX_DURATION)
        )),
        Ok(d) => Ok(d),
        Err(e) => Err(format!(
            "{text:?} is not a duration ({e}); write a number with a unit, such as \"30s\", \"10m\" or \"1h30m\""
        )),
    }
}

/// The check of a duration attribute.
pub(crate) fn duration_validator(summary: &'static str) -> Validator {
    Validator::string(
        summary,
        "a duration such as `30s`, `10m` or `1h30m`, at most 7 days",
        |text| parse_duration(text).map(drop),
    )
}

/// One operation bounded by `timeouts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeoutKind {
    Create,
    Update,
    Read,
}

impl TimeoutKind {
    const ALL: [TimeoutKind; 3] = [TimeoutKind::Create, TimeoutKind::Update, TimeoutKind::Read];

    pub(crate) fn name(self) -> &'static str {
        match self {
            TimeoutKind::Create => "create",
            TimeoutKind::Update => "update",
            TimeoutKind::Read => "read",
        }
    }

    fn bounds(self) -> &'static str {
        match self {
            TimeoutKind::Create => "the first apply: submitting and waiting on every phone's jobs",
            TimeoutKind::Update => {
                "a later apply: submitting and waiting on the jobs of the phones that need work"
            }
            TimeoutKind::Read => {
                "a refresh: reading running jobs (and phones, where the resource reads them)"
            }
        }
    }
}

/// The `timeouts` block.
pub(crate) fn timeouts_block() -> NestedBlock {
    let mut block = Block::new().description(format!(
        "How long each operation may take, as durations such as `30s`, `10m` or `1h30m` (at most 7 days). \
         Default `{}` each.",
        humantime::format_duration(DEFAULT_TIMEOUT)
    ));
    for kind in TimeoutKind::ALL {
        block = block.attribute(
            Attribute::optional(kind.name(), Type::String)
                .description(format!("Bounds {}.", kind.bounds()))
                .validator(duration_validator("Invalid Timeout")),
        );
    }
    NestedBlock::single(names::TIMEOUTS, block)
}

/// The timeout of `kind` from a resource's `timeouts` block (configuration, plan or state). The
/// block was validated before any operation runs, so text that does not parse here (an old state,
/// say) means the default.
pub(crate) fn timeout(block: &Maybe<TimeoutsModel>, kind: TimeoutKind) -> Duration {
    let Some(block) = block.known() else {
        return DEFAULT_TIMEOUT;
    };
    let text = match kind {
        TimeoutKind::Create => &block.create,
        TimeoutKind::Update => &block.update,
        TimeoutKind::Read => &block.read,
    };
    text.known()
        .and_then(|text| parse_duration(text).ok())
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// The `timeout` of an action's configuration (validated before it is invoked), or the default.
pub(crate) fn action_timeout(text: &Maybe<String>) -> Duration {
    text.known()
        .and_then(|text| parse_duration(text).ok())
        .unwrap_or(DEFAULT_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use tfplugin::Value;

    use super::*;

    #[test]
    fn durations_accept_terraform_style_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7d"), Ok(MAX_DURATION));
    }

    #[test]
    fn bad_zero_and_absurd_durations_are_refused_with_the_value_named() {
        let err = parse_duration("ten minutes").unwrap_err();
        assert!(err.contains("\"ten minutes\""), "{err}");
        assert!(
            parse_duration("0s")
                .unwrap_err()
                .contains("greater than zero")
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5m").is_err());
        for absurd in [
            "8d",
            "100000000h",
            "99999999999999999999999s",
            "584942417355y",
        ] {
            let err = parse_duration(absurd).unwrap_err();
            assert!(err.contains(absurd), "{absurd}: {err}");
        }
        assert!(
            parse_duration("8d")
                .unwrap_err()
                .contains("longer than the limit of 7days")
        );
    }

    #[test]
    fn missing_timeouts_use_the_default_and_set_ones_their_value() {
        let block = Maybe::Known(TimeoutsModel {
            create: Maybe::Known("2m".into()),
            update: Maybe::Null,
            read: Maybe::Known("whenever".into()),
        });
        assert_eq!(
            timeout(&block, TimeoutKind::Create),
            Duration::from_secs(120)
        );
        assert_eq!(timeout(&block, TimeoutKind::Update), DEFAULT_TIMEOUT);
        assert_eq!(timeout(&block, TimeoutKind::Read), DEFAULT_TIMEOUT);
        assert_eq!(timeout(&Maybe::Null, TimeoutKind::Create), DEFAULT_TIMEOUT);
    }

    #[test]
    fn the_block_checks_each_duration_at_its_path() {
        let schema = tfplugin::Schema::new(0, Block::new().block(timeouts_block()));
        let config = Value::object([(
            "timeouts",
            Value::object([
                ("create", Value::from("forever")),
                ("update", Value::from("9d")),
                ("read", Value::Null),
            ]),
        )]);
        let diags = schema.validate(&config);
        let paths: Vec<String> = diags
            .iter()
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(paths, vec!["timeouts.create", "timeouts.update"]);
        assert!(diags.iter().all(|d| d.summary == "Invalid Timeout"));
    }
}
