//! Fuzzes cph-http's pager (`cph_http::Pager`) with arbitrary page sequences: any limit (1..=64),
//! any page cap (1..=256), pages of any wire length (up to 2^32 - 1), ids from a small pool (so
//! repeats happen), counts exact, negative, huge or near the listing's end, undecodable elements.
//! The sequence is replayed as long as the pager asks for more pages, either as it is (a service
//! repeating itself) or with fresh ids each round (a listing that never ends).
//!
//! What must hold: no panic; the pager ends (done or error) within the page cap; every `Fetch`
//! moves the offset forward by the page's wire length, which is at least the limit; `Done` only
//! after a short page or a page that reaches the count exactly; an undecodable element or a
//! repeated id never passes; an error names the operation and the offset of the page that ended
//! the listing, and becomes `Error::Decode` exactly for undecodable elements; once ended, the
//! pager keeps its end.

#![no_main]

use std::collections::HashSet;

use arbitrary::Arbitrary;
use cph_http::{Error, PageFacts, Pager, PagingProblem, Step};
use libfuzzer_sys::fuzz_target;

const OPERATION: &str = "ListCloudPhones";

#[derive(Debug, Arbitrary)]
enum Count {
    None,
    /// Any count at all.
    Raw(i64),
    /// The elements listed with this page, plus this (near the end of the listing).
    Near(i8),
}

#[derive(Debug, Arbitrary)]
struct Page {
    /// Elements on the wire (taken as at least the ids and the undecodable elements).
    raw_len: u32,
    /// Whether `raw_len` is used at all (otherwise the page is exactly its ids + undecoded).
    use_raw_len: bool,
    ids: Vec<Option<u8>>,
    count: Count,
    undecoded: u8,
    reason: Option<String>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    limit: u8,
    max_pages: u8,
    /// Whether each replay of the pages brings fresh ids.
    fresh_ids: bool,
    pages: Vec<Page>,
}

fuzz_target!(|input: Input| {
    let limit = u32::from(input.limit % 64) + 1;
    let max_pages = u32::from(input.max_pages) + 1;
    let mut pager = Pager::new(OPERATION, limit).max_pages(max_pages);
    assert_eq!(pager.limit(), limit);
    let empty = Page {
        raw_len: 0,
        use_raw_len: false,
        ids: Vec::new(),
        count: Count::None,
        undecoded: 0,
        reason: None,
    };
    let pages: Vec<&Page> = if input.pages.is_empty() {
        vec![&empty]
    } else {
        input.pages.iter().collect()
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut listed: u64 = 0;
    let mut fed: u32 = 0;
    let end = loop {
        assert!(
            fed < max_pages,
            "the pager asked for more than {max_pages} pages"
        );
        let page = pages[fed as usize % pages.len()];
        let round = if input.fresh_ids {
            fed as usize / pages.len()
        } else {
            0
        };
        let ids: Vec<Option<String>> = page
            .ids
            .iter()
            .map(|id| id.map(|id| format!("p{round}-{id}")))
            .collect();
        let undecoded = usize::from(page.undecoded % 4);
        let minimum = ids.len() + undecoded;
        let raw_len = if page.use_raw_len {
            usize::try_from(page.raw_len).unwrap_or(usize::MAX)
        } else {
            minimum
        };
        let wire = raw_len.max(minimum) as u64;
        let count = match page.count {
            Count::None => None,
            Count::Raw(c) => Some(c),
            Count::Near(d) => i64::try_from(listed + wire)
                .ok()
                .map(|c| c.saturating_add(i64::from(d))),
        };
        let facts = PageFacts {
            raw_len,
            ids: ids.iter().map(Option::as_deref).collect(),
            count,
            undecoded,
            first_error: page.reason.as_deref(),
        };
        let before = pager.offset();
        assert_eq!(u64::from(before), listed, "the offset is what was listed");
        let step = pager.page(&facts);
        fed += 1;
        assert_eq!(pager.pages(), fed);
        let mut repeats = false;
        for id in ids.iter().flatten() {
            repeats |= !seen.insert(id.clone());
        }
        match step {
            Ok(Step::Fetch { offset }) => {
                assert_eq!(undecoded, 0, "an undecodable element passed");
                assert!(!repeats, "a repeated id passed");
                assert!(
                    wire >= u64::from(limit),
                    "a short page did not end the listing"
                );
                assert_eq!(u64::from(offset), listed + wire);
                assert!(offset > before);
                assert_eq!(pager.offset(), offset);
                assert!(!pager.is_finished());
                listed += wire;
            }
            Ok(Step::Done) => {
                assert_eq!(undecoded, 0, "an undecodable element passed");
                assert!(!repeats, "a repeated id passed");
                let reached = count.is_some_and(|c| u64::try_from(c) == Ok(listed + wire));
                assert!(
                    wire < u64::from(limit) || reached,
                    "done after a full page of {wire} that did not reach the count {count:?}"
                );
                if let Some(c) = count {
                    // A listing never ends cleanly below a count it could reach.
                    assert!(u64::try_from(c).map_or(true, |c| c <= listed + wire));
                }
                break Ok(());
            }
            Err(e) => {
                assert_eq!(e.operation, OPERATION);
                assert_eq!(e.offset, before, "the error names the page's offset");
                if undecoded > 0 {
                    assert!(
                        matches!(e.problem, PagingProblem::Undecodable { .. }),
                        "{e}"
                    );
                } else if repeats {
                    assert!(matches!(e.problem, PagingProblem::Repeated { .. }), "{e}");
                }
                let text = e.to_string();
                assert!(
                    text.starts_with(&format!("{OPERATION} paging stopped at offset {before}: ")),
                    "{text}"
                );
                let undecodable = matches!(e.problem, PagingProblem::Undecodable { .. });
                match Error::from(e.clone()) {
                    Error::Decode {
                        operation,
                        status,
                        message,
                    } => {
                        assert!(undecodable, "{message}");
                        assert_eq!((operation, status), (OPERATION, 200));
                        if let Some(reason) = &page.reason {
                            assert!(message.contains(reason.as_str()), "{message}");
                        }
                    }
                    Error::Paging {
                        operation, offset, ..
                    } => {
                        assert!(!undecodable);
                        assert_eq!((operation, offset), (OPERATION, before));
                    }
                    other => panic!("unexpected error {other:?}"),
                }
                break Err(e);
            }
        }
    };
    assert!(pager.is_finished());
    assert!(pager.pages() <= max_pages);
    let again = pager.page(&PageFacts::default());
    assert_eq!(again, end.map(|()| Step::Done), "the pager keeps its end");
    assert_eq!(pager.pages(), fed, "a finished pager judges nothing more");
});
