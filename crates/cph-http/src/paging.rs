//! The pager of the list operations (ListCloudPhones, ListJobs): a pure state machine that is told
//! what each page held and decides whether to fetch another page (at which offset), to stop, or to
//! stop with an error. It never sends anything itself, so every rule is tested without a service.
//!
//! The rules, in the order they are applied to a page:
//! 1. A page with elements that could not be decoded ends the listing with
//!    [`PagingProblem::Undecodable`]: a lost element would otherwise go unnoticed (and, counted
//!    out, make a full page look short).
//! 2. A page naming an element already listed (by id), or one element twice, ends it with
//!    [`PagingProblem::Repeated`]: the service ignored `offset`, or the listing moved under it.
//! 3. A page shorter than the limit (counting the elements on the wire, decoded or not) is the last
//!    one. If the service reported a `count` the listing has not reached, that contradicts it:
//!    [`PagingProblem::Stalled`] for an empty page, [`PagingProblem::Shortfall`] otherwise.
//! 4. A full page that brings the listing exactly to the reported `count` is the last one. A full
//!    page that goes past it shows the count to be stale, so only the short-page rule ends the
//!    listing then (one more request, never a truncated list).
//! 5. Otherwise the next page starts where this one ended, unless the listing already took
//!    [`Pager::max_pages`] pages ([`PagingProblem::TooManyPages`]) or the offset would overflow.
//!
//! Every page either ends the listing or moves the offset forward by at least the limit, and no
//! listing takes more than `max_pages` pages: the pager never spins.

use std::collections::HashSet;
use std::fmt;

use cph_types::ListDecoding;

use crate::error::Error;

/// The most pages a [`Pager`] allows unless told otherwise: 10,000 (two million phones at 200 a
/// page, a million jobs at 100), a last guard against a listing that never ends.
pub const DEFAULT_MAX_PAGES: u32 = 10_000;

/// What one page held, as the pager judges it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageFacts<'a> {
    /// Elements on the wire, decoded or not ([`ListDecoding::raw_len`]). Taken as at least
    /// `ids.len() + undecoded`.
    pub raw_len: usize,
    /// The id of each decoded element, in order (`None` for an element without one; those are not
    /// checked for repeats).
    pub ids: Vec<Option<&'a str>>,
    /// The total the service reported for all pages, if it reports one (ListCloudPhones' `count`).
    pub count: Option<i64>,
    /// Elements that could not be decoded.
    pub undecoded: usize,
    /// Why the first of them could not be decoded.
    pub first_error: Option<&'a str>,
}

impl<'a> PageFacts<'a> {
    /// The facts of a page from its list's [`ListDecoding`], the ids of its decoded elements and
    /// the count the service reported.
    pub fn new(
        decoding: &'a ListDecoding,
        ids: impl IntoIterator<Item = Option<&'a str>>,
        count: Option<i64>,
    ) -> Self {
        PageFacts {
            raw_len: decoding.raw_len,
            ids: ids.into_iter().collect(),
            count,
            undecoded: decoding.undecoded,
            first_error: decoding.first_error.as_deref(),
        }
    }

    /// The page's length on the wire: `raw_len`, or more if the decoded and undecoded elements
    /// add up to more.
    fn wire_len(&self) -> usize {
        self.raw_len
            .max(self.ids.len().saturating_add(self.undecoded))
    }
}

/// What to do after a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Fetch the next page at this offset (also [`Pager::offset`]).
    Fetch {
        /// The offset of the next page.
        offset: u32,
    },
    /// The listing is complete.
    Done,
}

/// Why a listing was stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PagingProblem {
    /// Some elements of the page could not be decoded.
    Undecodable {
        /// How many.
        undecoded: usize,
        /// How many elements the page held on the wire.
        raw_len: usize,
        /// Why the first of them could not be decoded.
        first_error: String,
    },
    /// The page names elements already listed (or one element twice).
    Repeated {
        /// The first id repeated.
        id: String,
        /// How many of the page's elements repeat an id.
        repeated: usize,
    },
    /// An empty page although the service counts more elements than were listed.
    Stalled {
        /// The count the service reported.
        count: i64,
        /// Elements listed before this page.
        listed: u64,
    },
    /// A short page ended the listing below the count the service reported.
    Shortfall {
        /// The count the service reported.
        count: i64,
        /// Elements listed, this page included.
        listed: u64,
        /// Elements on this page.
        page_len: usize,
        /// The limit asked for.
        limit: u32,
    },
    /// The listing took the most pages allowed and was still not done.
    TooManyPages {
        /// The pages fetched.
        pages: u32,
    },
    /// The next offset does not fit the API's offset.
    OffsetOverflow {
        /// Elements listed, this page included.
        listed: u64,
    },
}

impl fmt::Display for PagingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PagingProblem::Undecodable {
                undecoded,
                raw_len,
                first_error,
            } => write!(
                f,
                "{undecoded} of the page's {raw_len} elements could not be decoded (the first: \
                 {first_error})"
            ),
            PagingProblem::Repeated { id, repeated } => write!(
                f,
                "the page repeats {repeated} element(s) already listed, the first {id:?}: the \
                 service ignored the offset, or the listing changed while it was paged"
            ),
            PagingProblem::Stalled { count, listed } => write!(
                f,
                "the page is empty although the service counts {count} and {listed} were listed; \
                 the listing makes no progress"
            ),
            PagingProblem::Shortfall {
                count,
                listed,
                page_len,
                limit,
            } => write!(
                f,
                "the listing ended after {listed} elements (a page of {page_len}, below the limit \
                 of {limit}) although the service counts {count}"
            ),
            PagingProblem::TooManyPages { pages } => write!(
                f,
                "the listing was not done after {pages} pages; stopped as a guard against a \
                 listing that never ends"
            ),
            PagingProblem::OffsetOverflow { listed } => write!(
                f,
                "{listed} elements were listed; the next offset would exceed {}",
                u32::MAX
            ),
        }
    }
}

/// A listing stopped by the [`Pager`]: the operation, the offset of the page that stopped it and
/// what was wrong. Converts into [`Error::Decode`] for undecodable elements (with status 200:
/// the page itself was a success) and [`Error::Paging`] for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagingError {
    /// The API operation, e.g. `ListCloudPhones`.
    pub operation: &'static str,
    /// The offset of the page that stopped the listing.
    pub offset: u32,
    /// What was wrong.
    pub problem: PagingProblem,
}

impl fmt::Display for PagingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} paging stopped at offset {}: {}",
            self.operation, self.offset, self.problem
        )
    }
}

impl std::error::Error for PagingError {}

impl From<PagingError> for Error {
    fn from(e: PagingError) -> Self {
        match e.problem {
            PagingProblem::Undecodable { .. } => Error::Decode {
                operation: e.operation,
                status: 200,
                message: format!("page at offset {}: {}", e.offset, e.problem),
            },
            problem => Error::Paging {
                operation: e.operation,
                offset: e.offset,
                message: problem.to_string(),
            },
        }
    }
}

/// The pager of one listing. Fetch the page at [`Pager::offset`] (0 first), tell the pager what
/// it held with [`Pager::page`], and follow the [`Step`]; an `Err` ends the listing. Once the
/// listing has ended, `page` keeps answering the same end.
#[derive(Debug, Clone)]
pub struct Pager {
    operation: &'static str,
    limit: u32,
    max_pages: u32,
    offset: u32,
    pages: u32,
    seen: HashSet<String>,
    end: Option<Result<Step, PagingError>>,
}

impl Pager {
    /// A pager for `operation` (named in its errors) asking `limit` elements a page (a limit of 0
    /// is taken as 1), allowing [`DEFAULT_MAX_PAGES`] pages.
    pub fn new(operation: &'static str, limit: u32) -> Self {
        Pager {
            operation,
            limit: limit.max(1),
            max_pages: DEFAULT_MAX_PAGES,
            offset: 0,
            pages: 0,
            seen: HashSet::new(),
            end: None,
        }
    }

    /// The same pager allowing at most `pages` pages (at least 1).
    #[must_use]
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// The offset of the page to fetch next (that of the last page once the listing has ended).
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// The limit to ask for.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Pages judged so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// Whether the listing has ended (done or stopped).
    pub fn is_finished(&self) -> bool {
        self.end.is_some()
    }

    /// Judges the page fetched at [`Pager::offset`].
    pub fn page(&mut self, page: &PageFacts<'_>) -> Result<Step, PagingError> {
        if let Some(end) = &self.end {
            return end.clone();
        }
        let judged = self.judge(page);
        if !matches!(judged, Ok(Step::Fetch { .. })) {
            self.end = Some(judged.clone());
        }
        judged
    }

    fn judge(&mut self, page: &PageFacts<'_>) -> Result<Step, PagingError> {
        let offset = self.offset;
        let operation = self.operation;
        let stop = |problem| {
            Err(PagingError {
                operation,
                offset,
                problem,
            })
        };
        self.pages = self.pages.saturating_add(1);
        let page_len = page.wire_len();
        if page.undecoded > 0 {
            return stop(PagingProblem::Undecodable {
                undecoded: page.undecoded,
                raw_len: page_len,
                first_error: page.first_error.unwrap_or("no reason was given").to_owned(),
            });
        }
        let mut repeated = 0usize;
        let mut first_repeat: Option<&str> = None;
        for id in page.ids.iter().copied().flatten() {
            if self.seen.contains(id) {
                repeated += 1;
                first_repeat.get_or_insert(id);
            } else {
                self.seen.insert(id.to_owned());
            }
        }
        if let Some(id) = first_repeat {
            return stop(PagingProblem::Repeated {
                id: id.to_owned(),
                repeated,
            });
        }
        let listed = u64::from(offset).saturating_add(u64::try_from(page_len).unwrap_or(u64::MAX));
        let below_count = |count: i64| u64::try_from(count).is_ok_and(|count| listed < count);
        let short = page_len < self.limit as usize;
        match page.count {
            Some(count) if short && below_count(count) && page_len == 0 => {
                return stop(PagingProblem::Stalled {
                    count,
                    listed: u64::from(offset),
                });
            }
            Some(count) if short && below_count(count) => {
                return stop(PagingProblem::Shortfall {
                    count,
                    listed,
                    page_len,
                    limit: self.limit,
                });
            }
            _ if short => return Ok(Step::Done),
            Some(count) if u64::try_from(count).is_ok_and(|count| count == listed) => {
                return Ok(Step::Done);
            }
            _ => {}
        }
        if self.pages >= self.max_pages {
            return stop(PagingProblem::TooManyPages { pages: self.pages });
        }
        let Ok(next) = u32::try_from(listed) else {
            return stop(PagingProblem::OffsetOverflow { listed });
        };
        self.offset = next;
        Ok(Step::Fetch { offset: next })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The facts of a page of `ids` (all decoded), with `count`.
    fn page<'a>(ids: &'a [String], count: Option<i64>) -> PageFacts<'a> {
        PageFacts {
            raw_len: ids.len(),
            ids: ids.iter().map(|id| Some(id.as_str())).collect(),
            count,
            undecoded: 0,
            first_error: None,
        }
    }

    fn ids(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("p{i}")).collect()
    }

    #[test]
    fn a_short_page_ends_the_listing() {
        let mut pager = Pager::new("ListJobs", 100);
        let first = ids(0..100);
        assert_eq!(
            pager.page(&page(&first, None)),
            Ok(Step::Fetch { offset: 100 })
        );
        assert_eq!(pager.offset(), 100);
        let last = ids(100..150);
        assert_eq!(pager.page(&page(&last, None)), Ok(Step::Done));
        assert_eq!(pager.pages(), 2);
        assert!(pager.is_finished());
        // Shortness counts the elements on the wire: elements without ids count too.
        let mut pager = Pager::new("ListJobs", 3);
        let no_ids = PageFacts {
            raw_len: 3,
            ids: vec![None, None, None],
            ..PageFacts::default()
        };
        assert_eq!(pager.page(&no_ids), Ok(Step::Fetch { offset: 3 }));
        assert_eq!(pager.page(&PageFacts::default()), Ok(Step::Done));
    }

    #[test]
    fn an_empty_first_page_is_an_empty_listing() {
        let mut pager = Pager::new("ListCloudPhones", 200);
        assert_eq!(pager.page(&page(&[], Some(0))), Ok(Step::Done));
        let mut pager = Pager::new("ListCloudPhones", 200);
        assert_eq!(pager.page(&page(&[], None)), Ok(Step::Done));
    }

    #[test]
    fn reaching_the_count_ends_the_listing_without_an_empty_page() {
        let mut pager = Pager::new("ListCloudPhones", 200);
        let (a, b) = (ids(0..200), ids(200..400));
        assert_eq!(
            pager.page(&page(&a, Some(400))),
            Ok(Step::Fetch { offset: 200 })
        );
        assert_eq!(pager.page(&page(&b, Some(400))), Ok(Step::Done));
    }

    #[test]
    fn a_full_page_past_the_count_goes_on_until_a_short_page() {
        // The count (150) is stale: the pages hold more. No phone is cut off.
        let mut pager = Pager::new("ListCloudPhones", 100);
        let (a, b, c) = (ids(0..100), ids(100..200), ids(200..210));
        assert_eq!(
            pager.page(&page(&a, Some(150))),
            Ok(Step::Fetch { offset: 100 })
        );
        assert_eq!(
            pager.page(&page(&b, Some(150))),
            Ok(Step::Fetch { offset: 200 })
        );
        assert_eq!(pager.page(&page(&c, Some(150))), Ok(Step::Done));
        // A negative count is no count at all.
        let mut pager = Pager::new("ListCloudPhones", 2);
        let d = ids(0..2);
        assert_eq!(
            pager.page(&page(&d, Some(-1))),
            Ok(Step::Fetch { offset: 2 })
        );
        assert_eq!(pager.page(&page(&[], Some(-1))), Ok(Step::Done));
    }

    #[test]
    fn undecodable_elements_stop_the_listing_naming_how_many_and_the_first_reason() {
        let mut pager = Pager::new("ListCloudPhones", 200);
        let first = ids(0..200);
        pager.page(&page(&first, Some(450))).unwrap();
        let decoded = ids(200..399);
        let decoding = ListDecoding {
            raw_len: 200,
            undecoded: 1,
            first_error: Some("element 17: invalid type: string \"x\"".to_owned()),
        };
        let facts = PageFacts::new(
            &decoding,
            decoded.iter().map(|id| Some(id.as_str())),
            Some(450),
        );
        let err = pager.page(&facts).unwrap_err();
        assert_eq!(
            err.problem,
            PagingProblem::Undecodable {
                undecoded: 1,
                raw_len: 200,
                first_error: "element 17: invalid type: string \"x\"".to_owned(),
            }
        );
        assert_eq!(err.offset, 200);
        assert_eq!(
            err.to_string(),
            "ListCloudPhones paging stopped at offset 200: 1 of the page's 200 elements could \
             not be decoded (the first: element 17: invalid type: string \"x\")"
        );
        // Even on a short page (which would otherwise end the listing cleanly).
        let mut pager = Pager::new("ListJobs", 100);
        let facts = PageFacts {
            raw_len: 1,
            undecoded: 1,
            ..PageFacts::default()
        };
        let err = pager.page(&facts).unwrap_err();
        assert!(
            matches!(&err.problem, PagingProblem::Undecodable { first_error, .. } if first_error == "no reason was given")
        );
    }

    #[test]
    fn a_page_repeating_the_previous_one_stops_the_listing() {
        // A service that ignores `offset` answers page 1 again: an error, not a loop.
        let mut pager = Pager::new("ListCloudPhones", 200);
        let first = ids(0..200);
        assert_eq!(
            pager.page(&page(&first, Some(450))),
            Ok(Step::Fetch { offset: 200 })
        );
        let err = pager.page(&page(&first, Some(450))).unwrap_err();
        assert_eq!(err.offset, 200);
        assert_eq!(
            err.problem,
            PagingProblem::Repeated {
                id: "p0".to_owned(),
                repeated: 200
            }
        );
        assert!(err.to_string().contains("ignored the offset"), "{err}");
        // Once ended, the pager keeps the end.
        assert_eq!(pager.page(&page(&ids(200..400), Some(450))), Err(err));
        assert_eq!(pager.pages(), 2);
    }

    #[test]
    fn a_partial_overlap_or_a_duplicate_within_a_page_stops_the_listing() {
        let mut pager = Pager::new("ListJobs", 3);
        let a = ids(0..3);
        pager.page(&page(&a, None)).unwrap();
        let overlap = vec!["p2".to_owned(), "p3".to_owned(), "p4".to_owned()];
        let err = pager.page(&page(&overlap, None)).unwrap_err();
        assert_eq!(
            err.problem,
            PagingProblem::Repeated {
                id: "p2".to_owned(),
                repeated: 1
            }
        );
        let mut pager = Pager::new("ListJobs", 3);
        let twice = vec!["a".to_owned(), "b".to_owned(), "a".to_owned()];
        let err = pager.page(&page(&twice, None)).unwrap_err();
        assert_eq!(err.offset, 0);
        assert!(
            matches!(err.problem, PagingProblem::Repeated { ref id, repeated: 1 } if id == "a")
        );
    }

    #[test]
    fn an_empty_page_while_the_count_claims_more_is_no_progress() {
        let mut pager = Pager::new("ListCloudPhones", 200);
        let first = ids(0..200);
        pager.page(&page(&first, Some(450))).unwrap();
        let err = pager.page(&page(&[], Some(450))).unwrap_err();
        assert_eq!(
            err.problem,
            PagingProblem::Stalled {
                count: 450,
                listed: 200
            }
        );
        assert_eq!(
            err.to_string(),
            "ListCloudPhones paging stopped at offset 200: the page is empty although the \
             service counts 450 and 200 were listed; the listing makes no progress"
        );
    }

    #[test]
    fn a_short_page_below_the_count_is_a_shortfall() {
        let mut pager = Pager::new("ListCloudPhones", 200);
        let (a, b, c) = (ids(0..200), ids(200..400), ids(400..450));
        pager.page(&page(&a, Some(500))).unwrap();
        pager.page(&page(&b, Some(500))).unwrap();
        let err = pager.page(&page(&c, Some(500))).unwrap_err();
        assert_eq!(err.offset, 400);
        assert_eq!(
            err.problem,
            PagingProblem::Shortfall {
                count: 500,
                listed: 450,
                page_len: 50,
                limit: 200
            }
        );
        // The same last page with the count it implies ends cleanly.
        let mut pager = Pager::new("ListCloudPhones", 200);
        pager.page(&page(&a, Some(450))).unwrap();
        pager.page(&page(&b, Some(450))).unwrap();
        assert_eq!(pager.page(&page(&c, Some(450))), Ok(Step::Done));
    }

    #[test]
    fn the_page_cap_stops_a_listing_that_never_ends() {
        let mut pager = Pager::new("ListJobs", 2).max_pages(5);
        let mut steps = Vec::new();
        for n in 0..10 {
            let page_ids = ids(2 * n..2 * n + 2);
            let step = pager.page(&page(&page_ids, None));
            let end = step.is_err();
            steps.push(step);
            if end {
                break;
            }
        }
        assert_eq!(steps.len(), 5);
        assert_eq!(
            steps[4],
            Err(PagingError {
                operation: "ListJobs",
                offset: 8,
                problem: PagingProblem::TooManyPages { pages: 5 }
            })
        );
        // Pages without ids cannot repeat; the cap still ends them.
        let mut pager = Pager::new("ListJobs", 1).max_pages(3);
        let blank = PageFacts {
            raw_len: 1,
            ..PageFacts::default()
        };
        assert!(pager.page(&blank).is_ok());
        assert!(pager.page(&blank).is_ok());
        assert!(pager.page(&blank).is_err());
    }

    #[test]
    fn the_offset_cannot_overflow() {
        let mut pager = Pager::new("ListJobs", 100);
        let huge = PageFacts {
            raw_len: usize::try_from(u32::MAX).unwrap(),
            ..PageFacts::default()
        };
        assert_eq!(pager.page(&huge), Ok(Step::Fetch { offset: u32::MAX }));
        let err = pager.page(&huge).unwrap_err();
        assert_eq!(
            err.problem,
            PagingProblem::OffsetOverflow {
                listed: 2 * u64::from(u32::MAX)
            }
        );
    }

    #[test]
    fn raw_len_is_at_least_the_decoded_and_undecoded_elements() {
        // A page built in code (raw_len 0) with a full page of ids is a full page.
        let mut pager = Pager::new("ListJobs", 2);
        let two = ids(0..2);
        let facts = PageFacts {
            raw_len: 0,
            ..page(&two, None)
        };
        assert_eq!(pager.page(&facts), Ok(Step::Fetch { offset: 2 }));
        assert_eq!(Pager::new("x", 0).limit(), 1);
    }

    #[test]
    fn errors_become_decode_or_paging_errors_of_the_client() {
        let undecodable = PagingError {
            operation: "ListCloudPhones",
            offset: 200,
            problem: PagingProblem::Undecodable {
                undecoded: 1,
                raw_len: 200,
                first_error: "element 3: bad".to_owned(),
            },
        };
        let error = Error::from(undecodable);
        assert_eq!(error.status(), Some(200));
        assert_eq!(
            error.to_string(),
            "ListCloudPhones answered http 200 with an unreadable body: page at offset 200: 1 of \
             the page's 200 elements could not be decoded (the first: element 3: bad)"
        );
        let repeated = PagingError {
            operation: "ListCloudPhones",
            offset: 200,
            problem: PagingProblem::Repeated {
                id: "p0".to_owned(),
                repeated: 200,
            },
        };
        let error = Error::from(repeated.clone());
        assert!(matches!(
            &error,
            Error::Paging {
                operation: "ListCloudPhones",
                offset: 200,
                ..
            }
        ));
        assert_eq!(error.to_string(), repeated.to_string());
    }

    /// A small deterministic generator (no dependency): xorshift.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    /// Property: whatever the pages say, the pager ends within `max_pages` pages; every `Fetch`
    /// moves the offset forward by the page's length (at least the limit); `Done` comes only after
    /// a short page or a page that reached the count; an undecodable element or a repeated id
    /// never passes.
    #[test]
    fn any_sequence_of_pages_ends_within_the_bound() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // How often each end was seen: the generator must reach all of them.
        let mut ends: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
        for _ in 0..3000 {
            let limit = 1 + u32::try_from(rng.below(8)).unwrap();
            let max_pages = 1 + u32::try_from(rng.below(40)).unwrap();
            let pool = 1 + rng.below(400);
            let mut pager = Pager::new("ListJobs", limit).max_pages(max_pages);
            let mut seen: HashSet<String> = HashSet::new();
            let mut listed: u64 = 0;
            let mut pages = 0u32;
            let ended = loop {
                assert!(pages < max_pages, "more than {max_pages} pages");
                let len = match rng.below(4) {
                    0 => rng.below(u64::from(limit)),
                    1 => u64::from(limit) + rng.below(3),
                    _ => u64::from(limit),
                };
                let len = usize::try_from(len).unwrap();
                let owned: Vec<Option<String>> = (0..len)
                    .map(|_| (rng.below(5) > 0).then(|| format!("j{}", rng.below(pool))))
                    .collect();
                let undecoded = usize::from(rng.below(30) == 0);
                let count = match rng.below(3) {
                    0 => None,
                    1 => Some(i64::try_from(listed + rng.below(3 * u64::from(limit))).unwrap()),
                    _ => Some(i64::try_from(rng.below(200)).unwrap() - 5),
                };
                let facts = PageFacts {
                    raw_len: len + undecoded,
                    ids: owned.iter().map(Option::as_deref).collect(),
                    count,
                    undecoded,
                    first_error: None,
                };
                let before = pager.offset();
                assert_eq!(u64::from(before), listed);
                let step = pager.page(&facts);
                pages += 1;
                let page_len = u64::try_from(facts.raw_len).unwrap();
                let mut repeats = false;
                for id in owned.iter().flatten() {
                    repeats |= !seen.insert(id.clone());
                }
                match step {
                    Ok(Step::Fetch { offset }) => {
                        assert_eq!(undecoded, 0);
                        assert!(!repeats);
                        assert!(page_len >= u64::from(limit));
                        assert_eq!(u64::from(offset), listed + page_len);
                        assert!(offset > before);
                        listed += page_len;
                    }
                    Ok(Step::Done) => {
                        assert_eq!(undecoded, 0);
                        assert!(!repeats);
                        let reached = count.is_some_and(|c| {
                            u64::try_from(c).is_ok_and(|c| c == listed + page_len)
                        });
                        assert!(page_len < u64::from(limit) || reached);
                        break Ok(());
                    }
                    Err(e) => {
                        assert_eq!(e.offset, before);
                        assert!(
                            undecoded == 0
                                || matches!(e.problem, PagingProblem::Undecodable { .. })
                        );
                        assert!(
                            !repeats
                                || matches!(
                                    e.problem,
                                    PagingProblem::Undecodable { .. }
                                        | PagingProblem::Repeated { .. }
                                )
                        );
                        break Err(e);
                    }
                }
            };
            let kind = match &ended {
                Ok(()) => "done",
                Err(e) => match e.problem {
                    PagingProblem::Undecodable { .. } => "undecodable",
                    PagingProblem::Repeated { .. } => "repeated",
                    PagingProblem::Stalled { .. } => "stalled",
                    PagingProblem::Shortfall { .. } => "shortfall",
                    PagingProblem::TooManyPages { .. } => "too many pages",
                    PagingProblem::OffsetOverflow { .. } => "overflow",
                },
            };
            *ends.entry(kind).or_default() += 1;
            assert!(pager.is_finished());
            assert!(pager.pages() <= max_pages);
            assert_eq!(
                pager.page(&PageFacts::default()),
                ended.map(|()| Step::Done)
            );
        }
        for kind in [
            "done",
            "undecodable",
            "repeated",
            "stalled",
            "shortfall",
            "too many pages",
        ] {
            assert!(
                ends.get(kind).copied().unwrap_or(0) > 10,
                "{kind}: {ends:?}"
            );
        }
    }
}
