//! Wall-clock time as the API writes it (`YYYY-MM-DDTHH:MM:SSZ`) and as signers send it
//! (`X-Sdk-Date: YYYYMMDDTHHMMSSZ`). Callers pass `now` in, so tests control time.

use std::time::SystemTime;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC), the API's time format.
pub(crate) fn format_api_time(at: SystemTime) -> String {
    let t = OffsetDateTime::from(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses an `X-Sdk-Date` value, `YYYYMMDDTHHMMSSZ` (UTC).
pub(crate) fn parse_sdk_date(text: &str) -> Option<SystemTime> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?;
    let day = u8::try_from(digits(6..8)?).ok()?;
    let hour = u8::try_from(digits(9..11)?).ok()?;
    let minute = u8::try_from(digits(11..13)?).ok()?;
    let second = u8::try_from(digits(13..15)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn api_time_is_utc_with_z() {
        let at = UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        assert_eq!(format_api_time(at), "2024-01-02T03:04:05Z");
    }

    #[test]
    fn sdk_date_parses_to_the_same_instant() {
        let at = parse_sdk_date("20240102T030405Z");
        assert_eq!(at, Some(UNIX_EPOCH + Duration::from_secs(1_704_164_645)));
    }

    #[test]
    fn malformed_sdk_dates_are_refused() {
        for text in [
            "",
            "2024-01-02T03:04:05Z",
            "20240102T030405",
            "20241302T030405Z",
            "20240102T250405Z",
            "2024010aT030405Z",
            "+0240102T030405Z",
        ] {
            assert_eq!(parse_sdk_date(text), None, "{text}");
        }
    }
}
