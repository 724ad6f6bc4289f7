//! The tickets BatchShowPhoneConnectInfos issued, as the phone's access gateway knows them: the
//! phone and session each was issued for, and when. The simulator's stand-in for that gateway
//! (`POST /_sim/connect`) accepts a ticket presented for its phone and session while it is valid,
//! and otherwise says why it refuses it.
//!
//! A ticket is valid from its issue until [`TICKET_LIFETIME`] later (excluded), and may be
//! presented any number of times meanwhile: the API documents neither a validity nor single use,
//! so the simulator picks the lifetime cph-types publishes and does not burn a ticket on use.
//! Issuing new tickets for a phone leaves its earlier ones valid. An expired ticket stays known
//! (refused as expired rather than as unknown) for one more lifetime, then is forgotten. Forgetting
//! is lazy, done whenever tickets are issued, so what is remembered is the tickets of about the
//! last two lifetimes, and never more than [`TICKETS_REMEMBERED_MAX`] (the oldest go first): memory
//! stays bounded however many tickets a benchmark draws.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::time::SystemTime;

use cph_types::TICKET_LIFETIME;

/// The most tickets remembered at once. Past it, the oldest are forgotten first (and refused as
/// unknown from then on). At 10 tickets per call this is 10,000 BatchShowPhoneConnectInfos calls
/// within two lifetimes, far more than a test or the provider makes; a ticket takes about 400
/// bytes (its text twice, its phone and session ids, the map and set entries), so this caps the
/// memory at about 40 MB.
pub(crate) const TICKETS_REMEMBERED_MAX: usize = 100_000;

/// What the gateway knows of one ticket.
#[derive(Debug, Clone)]
struct Issued {
    phone_id: String,
    session_id: String,
    /// The issue instant, as the answer's `timestamp` shows it (whole milliseconds), so that the
    /// expiry a client computes from the answer ([`cph_types::AccessInfo::expires_at`]) is the
    /// one enforced here.
    issued: SystemTime,
}

/// Why the gateway refuses a ticket. `Display` is the reason `POST /_sim/connect` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The ticket was never issued, or was forgotten.
    Unknown,
    /// The ticket was issued [`TICKET_LIFETIME`] or longer ago.
    Expired,
    /// The ticket was issued for another phone.
    OtherPhone,
    /// The ticket was issued for this phone but another session.
    OtherSession,
    /// The ticket is valid but the phone is not running now (stopped, restarting, ...): its
    /// gateway has nothing to connect to.
    NotRunning,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Unknown => "unknown ticket",
            Refusal::Expired => "ticket expired",
            Refusal::OtherPhone => "ticket issued for another phone",
            Refusal::OtherSession => "ticket issued for another session",
            Refusal::NotRunning => "phone not running",
        })
    }
}

/// Every ticket remembered, by ticket and in issue order.
#[derive(Debug, Default)]
pub(crate) struct Tickets {
    /// Ticket -> what it was issued for.
    by_ticket: HashMap<String, Issued>,
    /// (issue instant, ticket) of every ticket in `by_ticket`, oldest first.
    by_issue: BTreeSet<(SystemTime, String)>,
}

impl Tickets {
    /// Remembers `ticket`, issued at `issued` for `phone_id` and `session_id`, after forgetting
    /// the tickets expired for more than a lifetime at `now` (and the oldest, past
    /// [`TICKETS_REMEMBERED_MAX`]). A ticket issued again replaces its earlier record.
    pub(crate) fn issue(
        &mut self,
        ticket: String,
        phone_id: &str,
        session_id: &str,
        issued: SystemTime,
        now: SystemTime,
    ) {
        self.forget(now);
        if let Some(earlier) = self.by_ticket.remove(&ticket) {
            self.by_issue.remove(&(earlier.issued, ticket.clone()));
        }
        self.by_issue.insert((issued, ticket.clone()));
        self.by_ticket.insert(
            ticket,
            Issued {
                phone_id: phone_id.to_owned(),
                session_id: session_id.to_owned(),
                issued,
            },
        );
        while self.by_ticket.len() > TICKETS_REMEMBERED_MAX {
            let Some((_, oldest)) = self.by_issue.pop_first() else {
                break;
            };
            self.by_ticket.remove(&oldest);
        }
    }

    /// Whether the gateway lets `ticket` connect to `phone_id` at `now`: issued for that phone
    /// and, when `session_id` is given, for that session, and not expired. The phone and session
    /// are checked before the expiry, so a ticket presented for the wrong phone is refused as such
    /// whatever its age.
    pub(crate) fn check(
        &self,
        phone_id: &str,
        session_id: Option<&str>,
        ticket: &str,
        now: SystemTime,
    ) -> Result<(), Refusal> {
        let issued = self.by_ticket.get(ticket).ok_or(Refusal::Unknown)?;
        if issued.phone_id != phone_id {
            return Err(Refusal::OtherPhone);
        }
        if session_id.is_some_and(|session| session != issued.session_id) {
            return Err(Refusal::OtherSession);
        }
        match issued.issued.checked_add(TICKET_LIFETIME) {
            Some(expiry) if now >= expiry => Err(Refusal::Expired),
            _ => Ok(()),
        }
    }

    /// Every ticket and session id remembered (secrets: a test instrument, to prove that none
    /// leaked somewhere it must not be).
    pub(crate) fn secrets(&self) -> Vec<String> {
        self.by_ticket
            .iter()
            .flat_map(|(ticket, issued)| [ticket.clone(), issued.session_id.clone()])
            .collect()
    }

    /// How many tickets are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_ticket.len()
    }

    /// Forgets every ticket issued more than two lifetimes before `now` (expired for more than
    /// one).
    fn forget(&mut self, now: SystemTime) {
        let Some(horizon) = now
            .checked_sub(TICKET_LIFETIME)
            .and_then(|t| t.checked_sub(TICKET_LIFETIME))
        else {
            return;
        };
        while let Some((issued, _)) = self.by_issue.first() {
            if *issued >= horizon {
                break;
            }
            if let Some((_, ticket)) = self.by_issue.pop_first() {
                self.by_ticket.remove(&ticket);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    #[test]
    fn a_ticket_is_valid_for_one_lifetime_for_its_phone_and_session_only() {
        let mut tickets = Tickets::default();
        tickets.issue("t1".to_owned(), "p1", "s1", t0(), t0());
        assert_eq!(tickets.check("p1", Some("s1"), "t1", t0()), Ok(()));
        assert_eq!(tickets.check("p1", None, "t1", t0()), Ok(()));
        let last = t0() + TICKET_LIFETIME - Duration::from_millis(1);
        assert_eq!(tickets.check("p1", Some("s1"), "t1", last), Ok(()));
        let end = t0() + TICKET_LIFETIME;
        assert_eq!(
            tickets.check("p1", Some("s1"), "t1", end),
            Err(Refusal::Expired)
        );
        assert_eq!(
            tickets.check("p2", Some("s1"), "t1", t0()),
            Err(Refusal::OtherPhone)
        );
        assert_eq!(
            tickets.check("p1", Some("s2"), "t1", t0()),
            Err(Refusal::OtherSession)
        );
        assert_eq!(
            tickets.check("p1", Some("s1"), "t2", t0()),
            Err(Refusal::Unknown)
        );
    }

    #[test]
    fn tickets_expired_for_more_than_a_lifetime_are_forgotten_when_others_are_issued() {
        let mut tickets = Tickets::default();
        tickets.issue("old".to_owned(), "p1", "s1", t0(), t0());
        // Exactly two lifetimes after its issue: expired but still known.
        let later = t0() + 2 * TICKET_LIFETIME;
        tickets.issue("new".to_owned(), "p1", "s2", later, later);
        assert_eq!(
            tickets.check("p1", Some("s1"), "old", later),
            Err(Refusal::Expired)
        );
        assert_eq!(tickets.len(), 2);
        let past = later + Duration::from_millis(1);
        tickets.issue("newer".to_owned(), "p1", "s3", past, past);
        assert_eq!(
            tickets.check("p1", Some("s1"), "old", past),
            Err(Refusal::Unknown)
        );
        assert_eq!(tickets.check("p1", Some("s2"), "new", past), Ok(()));
        assert_eq!(tickets.len(), 2);
    }

    #[test]
    fn at_most_the_cap_is_remembered_the_oldest_forgotten_first() {
        let mut tickets = Tickets::default();
        for i in 0..=TICKETS_REMEMBERED_MAX {
            let at = t0() + Duration::from_micros(i as u64);
            tickets.issue(format!("t{i}"), "p", "s", at, at);
        }
        assert_eq!(tickets.len(), TICKETS_REMEMBERED_MAX);
        assert_eq!(tickets.check("p", None, "t0", t0()), Err(Refusal::Unknown));
        assert_eq!(tickets.check("p", None, "t1", t0()), Ok(()));
        // A ticket issued again replaces its record instead of taking a second place.
        tickets.issue("t1".to_owned(), "q", "s", t0(), t0());
        assert_eq!(tickets.len(), TICKETS_REMEMBERED_MAX);
        assert_eq!(tickets.check("q", None, "t1", t0()), Ok(()));
    }
}
