//! The read routes (ShowJob, ListJobs, ListCloudPhones, ShowCloudPhoneDetail): their paths and the
//! validated query parameters of the two list calls. One definition for both sides: the client
//! builds a query ([`ListJobsQuery::new`], [`ListPhonesQuery::new`], `with_offset`, `with_limit`)
//! and sends [`to_pairs`](ListJobsQuery::to_pairs); the simulator reads what it received with
//! [`from_pairs`](ListJobsQuery::from_pairs), which applies the service's rules (defaults,
//! `request_ids` winning over `request_id`, ranges) and names the offending parameter in an
//! [`Error::QueryParameter`].

use crate::codes::{
    LIST_JOBS_MAX_LIMIT, LIST_JOBS_MAX_REQUEST_IDS, LIST_PHONES_DEFAULT_LIMIT,
    LIST_PHONES_MAX_LIMIT,
};
use crate::error::Error;
use crate::ids::{JobId, PhoneId, ProjectId, RequestId};
use crate::requests::cloud_phone_path;
use crate::status::PhoneStatus;

/// `/v1/{project_id}/cloud-phone/jobs` (ListJobs).
pub fn jobs_path(project_id: &ProjectId) -> String {
    cloud_phone_path(project_id, "jobs")
}

/// `/v1/{project_id}/cloud-phone/jobs/{job_id}` (ShowJob).
pub fn job_path(project_id: &ProjectId, job_id: &JobId) -> String {
    cloud_phone_path(project_id, &format!("jobs/{job_id}"))
}

/// `/v1/{project_id}/cloud-phone/phones` (ListCloudPhones).
pub fn phones_path(project_id: &ProjectId) -> String {
    cloud_phone_path(project_id, "phones")
}

/// `/v1/{project_id}/cloud-phone/phones/{phone_id}` (ShowCloudPhoneDetail).
pub fn phone_path(project_id: &ProjectId, phone_id: &PhoneId) -> String {
    cloud_phone_path(project_id, &format!("phones/{phone_id}"))
}

fn invalid(what: &'static str, value: impl Into<String>, rule: impl Into<String>) -> Error {
    Error::InvalidValue {
        what,
        value: value.into(),
        rule: rule.into(),
    }
}

/// `error` about the query parameter `key`.
fn in_parameter(key: &'static str) -> impl FnOnce(Error) -> Error {
    move |error| Error::QueryParameter {
        key,
        source: Box::new(error),
    }
}

fn parse_offset(value: &str) -> Result<u32, Error> {
    value
        .parse()
        .map_err(|_| invalid("offset", value, "an integer of at least 0"))
        .map_err(in_parameter("offset"))
}

fn limit_error(value: &str, max: u32) -> Error {
    invalid("limit", value, format!("an integer from 1 to {max}"))
}

fn check_limit(limit: u32, max: u32) -> Result<u32, Error> {
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(limit_error(&limit.to_string(), max))
    }
}

fn parse_limit(value: &str, max: u32) -> Result<u32, Error> {
    value
        .parse()
        .map_err(|_| limit_error(value, max))
        .and_then(|limit| check_limit(limit, max))
        .map_err(in_parameter("limit"))
}

/// The page of a list call both queries share: `offset` and `limit`, the limit at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Paging {
    offset: u32,
    limit: u32,
    max: u32,
}

impl Paging {
    /// The first page of `limit` (a default within `max`).
    const fn first(limit: u32, max: u32) -> Self {
        Paging {
            offset: 0,
            limit,
            max,
        }
    }

    fn with_limit(mut self, limit: u32) -> Result<Self, Error> {
        self.limit = check_limit(limit, self.max)?;
        Ok(self)
    }

    /// Reads `offset` or `limit`; `false` for another key.
    fn read(&mut self, key: &str, value: &str) -> Result<bool, Error> {
        match key {
            "offset" => self.offset = parse_offset(value)?,
            "limit" => self.limit = parse_limit(value, self.max)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `limit` and `offset`, in this (sorted) order.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("limit", self.limit.to_string()),
            ("offset", self.offset.to_string()),
        ]
    }
}

/// ListJobs' query: the jobs of 1 to 20 request ids (or, as the simulator reads a query naming
/// none, of the whole project), `offset` and `limit` (1..=100).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListJobsQuery {
    /// Empty: every job of the project.
    request_ids: Vec<RequestId>,
    paging: Paging,
}

/// ListJobs' first page: `limit` 100, also the most.
const JOBS_FIRST_PAGE: Paging = Paging::first(LIST_JOBS_MAX_LIMIT, LIST_JOBS_MAX_LIMIT);

impl ListJobsQuery {
    /// A query for the jobs of `request_ids` (1 to [`LIST_JOBS_MAX_REQUEST_IDS`]), first page,
    /// `limit` [`LIST_JOBS_MAX_LIMIT`].
    pub fn new(request_ids: Vec<RequestId>) -> Result<Self, Error> {
        if request_ids.is_empty() || request_ids.len() > LIST_JOBS_MAX_REQUEST_IDS {
            return Err(invalid(
                "request id count",
                request_ids.len().to_string(),
                format!("1 to {LIST_JOBS_MAX_REQUEST_IDS} request ids"),
            ));
        }
        Ok(ListJobsQuery {
            request_ids,
            paging: JOBS_FIRST_PAGE,
        })
    }

    /// A query naming no request id: every job of the project, first page. The API documents
    /// ListJobs with request ids only; this is how the simulator reads a query without any.
    pub fn every_job() -> Self {
        ListJobsQuery {
            request_ids: Vec::new(),
            paging: JOBS_FIRST_PAGE,
        }
    }

    /// The same query at another page position.
    pub fn with_offset(mut self, offset: u32) -> Self {
        self.paging.offset = offset;
        self
    }

    /// The same query with another page size (1 to [`LIST_JOBS_MAX_LIMIT`]).
    pub fn with_limit(mut self, limit: u32) -> Result<Self, Error> {
        self.paging = self.paging.with_limit(limit)?;
        Ok(self)
    }

    /// The request ids; empty for [`ListJobsQuery::every_job`].
    pub fn request_ids(&self) -> &[RequestId] {
        &self.request_ids
    }

    /// The page position.
    pub fn offset(&self) -> u32 {
        self.paging.offset
    }

    /// The page size.
    pub fn limit(&self) -> u32 {
        self.paging.limit
    }

    /// Query parameters, unencoded, in sorted key order: `limit`, `offset`, `request_ids`
    /// (comma-joined; ids never contain a comma; left out when there is none).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.paging.pairs();
        if !self.request_ids.is_empty() {
            let ids: Vec<&str> = self.request_ids.iter().map(RequestId::as_str).collect();
            pairs.push(("request_ids", ids.join(",")));
        }
        pairs
    }

    /// Reads decoded query parameters as the service does: `request_ids` (comma-separated, a
    /// repeated id counted once) wins over `request_id`; neither is [`ListJobsQuery::every_job`];
    /// `offset` defaults to 0 and `limit` to 100; unknown keys are ignored. An error is an
    /// [`Error::QueryParameter`] naming the parameter.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, Error>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut single = None;
        let mut many = None;
        let mut paging = JOBS_FIRST_PAGE;
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref());
            if paging.read(key, value)? {
                continue;
            }
            match key {
                "request_id" => single = Some(value.to_owned()),
                "request_ids" => many = Some(value.to_owned()),
                _ => {}
            }
        }
        let mut query = match (many, single) {
            (Some(many), _) => {
                let mut ids: Vec<RequestId> = Vec::new();
                for id in many.split(',') {
                    let id = RequestId::new(id).map_err(in_parameter("request_ids"))?;
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                ListJobsQuery::new(ids).map_err(in_parameter("request_ids"))?
            }
            (None, Some(one)) => {
                let id = RequestId::new(one).map_err(in_parameter("request_id"))?;
                ListJobsQuery::new(vec![id])?
            }
            (None, None) => ListJobsQuery::every_job(),
        };
        query.paging = paging;
        Ok(query)
    }
}

/// ListCloudPhones' query: `offset`, `limit` (1..=200, default 100) and optional filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPhonesQuery {
    paging: Paging,
    /// Filter: phone name.
    pub phone_name: Option<String>,
    /// Filter: server id.
    pub server_id: Option<String>,
    /// Filter: phone status.
    pub status: Option<PhoneStatus>,
    /// Filter: phone type code.
    pub phone_type: Option<i64>,
}

impl Default for ListPhonesQuery {
    fn default() -> Self {
        ListPhonesQuery {
            paging: Paging::first(LIST_PHONES_DEFAULT_LIMIT, LIST_PHONES_MAX_LIMIT),
            phone_name: None,
            server_id: None,
            status: None,
            phone_type: None,
        }
    }
}

impl ListPhonesQuery {
    /// The first page with the default limit and no filters.
    pub fn new() -> Self {
        ListPhonesQuery::default()
    }

    /// The same query at another page position.
    pub fn with_offset(mut self, offset: u32) -> Self {
        self.paging.offset = offset;
        self
    }

    /// The same query with another page size (1 to [`LIST_PHONES_MAX_LIMIT`]).
    pub fn with_limit(mut self, limit: u32) -> Result<Self, Error> {
        self.paging = self.paging.with_limit(limit)?;
        Ok(self)
    }

    /// The page position.
    pub fn offset(&self) -> u32 {
        self.paging.offset
    }

    /// The page size.
    pub fn limit(&self) -> u32 {
        self.paging.limit
    }

    /// Query parameters, unencoded, in sorted key order; unset filters are left out.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.paging.pairs();
        if let Some(name) = &self.phone_name {
            pairs.push(("phone_name", name.clone()));
        }
        if let Some(server) = &self.server_id {
            pairs.push(("server_id", server.clone()));
        }
        if let Some(status) = self.status {
            pairs.push(("status", status.code().to_string()));
        }
        if let Some(phone_type) = self.phone_type {
            pairs.push(("type", phone_type.to_string()));
        }
        pairs
    }

    /// Reads decoded query parameters as the service does: `offset` defaults to 0 and `limit` to
    /// 100; an empty value counts as unset; unknown keys are ignored. An error is an
    /// [`Error::QueryParameter`] naming the parameter.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, Error>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut query = ListPhonesQuery::default();
        for (key, value) in pairs {
            let value = value.as_ref();
            if value.is_empty() {
                continue;
            }
            let key = key.as_ref();
            if query.paging.read(key, value)? {
                continue;
            }
            match key {
                "phone_name" => query.phone_name = Some(value.to_owned()),
                "server_id" => query.server_id = Some(value.to_owned()),
                "status" => {
                    let code = value.parse().map_err(|_| {
                        in_parameter("status")(invalid(
                            "phone status",
                            value,
                            "an integer status code",
                        ))
                    })?;
                    query.status = Some(PhoneStatus::from_code(code));
                }
                "type" => {
                    let code = value.parse().map_err(|_| {
                        in_parameter("type")(invalid("phone type", value, "an integer"))
                    })?;
                    query.phone_type = Some(code);
                }
                _ => {}
            }
        }
        Ok(query)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rid(id: &str) -> RequestId {
        RequestId::new(id).unwrap()
    }

    #[test]
    fn read_paths_sit_under_the_project() {
        let project = ProjectId::new("p0").unwrap();
        assert_eq!(jobs_path(&project), "/v1/p0/cloud-phone/jobs");
        assert_eq!(
            job_path(&project, &JobId::new("j1").unwrap()),
            "/v1/p0/cloud-phone/jobs/j1"
        );
        assert_eq!(
            phone_path(&project, &PhoneId::new("ph").unwrap()),
            "/v1/p0/cloud-phone/phones/ph"
        );
        assert_eq!(phones_path(&project), "/v1/p0/cloud-phone/phones");
    }

    #[test]
    fn list_jobs_query_allows_1_to_20_request_ids() {
        assert!(ListJobsQuery::new(vec![]).is_err());
        let twenty: Vec<RequestId> = (0..20).map(|i| rid(&format!("r{i}"))).collect();
        assert!(ListJobsQuery::new(twenty.clone()).is_ok());
        let mut twenty_one = twenty;
        twenty_one.push(rid("r20"));
        let err = ListJobsQuery::new(twenty_one).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid request id count \"21\": must be 1 to 20 request ids"
        );
    }

    #[test]
    fn list_jobs_query_renders_and_parses_back() {
        let query = ListJobsQuery::new(vec![rid("a"), rid("b")])
            .unwrap()
            .with_offset(100)
            .with_limit(50)
            .unwrap();
        let pairs = query.to_pairs();
        assert_eq!(
            pairs,
            [
                ("limit", "50".to_owned()),
                ("offset", "100".to_owned()),
                ("request_ids", "a,b".to_owned())
            ]
        );
        assert_eq!(ListJobsQuery::from_pairs(pairs).unwrap(), query);
    }

    #[test]
    fn request_ids_win_over_request_id() {
        let query =
            ListJobsQuery::from_pairs([("request_id", "x"), ("request_ids", "a,b")]).unwrap();
        assert_eq!(query.request_ids(), [rid("a"), rid("b")]);
        let single = ListJobsQuery::from_pairs([("request_id", "x")]).unwrap();
        assert_eq!(single.request_ids(), [rid("x")]);
        assert_eq!(single.limit(), 100);
        assert_eq!(single.offset(), 0);
    }

    #[test]
    fn list_jobs_limit_outside_1_to_100_is_rejected() {
        for bad in ["0", "101", "-1", "ten"] {
            let err = ListJobsQuery::from_pairs([("request_id", "x"), ("limit", bad)]);
            assert!(err.is_err(), "{bad}");
        }
        assert!(ListJobsQuery::from_pairs([("request_id", "x"), ("offset", "-1")]).is_err());
        assert!(ListJobsQuery::from_pairs([("request_ids", "a,,b")]).is_err());
    }

    #[test]
    fn errors_name_the_query_parameter() {
        let err = ListJobsQuery::from_pairs([("limit", "101")]).unwrap_err();
        assert!(
            matches!(&err, Error::QueryParameter { key: "limit", .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "query parameter limit: invalid limit \"101\": must be an integer from 1 to 100"
        );
        let ids = (0..21)
            .map(|i| format!("r{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let err = ListJobsQuery::from_pairs([("request_ids", ids.as_str())]).unwrap_err();
        assert!(matches!(
            err,
            Error::QueryParameter {
                key: "request_ids",
                ..
            }
        ));
        let err = ListJobsQuery::from_pairs([("request_id", "a b")]).unwrap_err();
        assert!(matches!(
            err,
            Error::QueryParameter {
                key: "request_id",
                ..
            }
        ));
        let err = ListPhonesQuery::from_pairs([("status", "x")]).unwrap_err();
        assert!(matches!(err, Error::QueryParameter { key: "status", .. }));
        let err = ListPhonesQuery::from_pairs([("offset", "-1")]).unwrap_err();
        assert!(matches!(err, Error::QueryParameter { key: "offset", .. }));
    }

    #[test]
    fn a_query_without_request_ids_lists_every_job_and_repeated_ids_count_once() {
        let all = ListJobsQuery::from_pairs([("offset", "5")]).unwrap();
        assert!(all.request_ids().is_empty());
        assert_eq!((all.offset(), all.limit()), (5, 100));
        assert_eq!(ListJobsQuery::every_job().with_offset(5), all);
        assert_eq!(
            all.to_pairs(),
            [("limit", "100".to_owned()), ("offset", "5".to_owned())]
        );
        let ids = (0..21)
            .map(|i| format!("r{}", i % 20))
            .collect::<Vec<_>>()
            .join(",");
        let query = ListJobsQuery::from_pairs([("request_ids", ids.as_str())]).unwrap();
        assert_eq!(query.request_ids().len(), 20);
        assert_eq!(query.request_ids()[0], rid("r0"));
    }

    #[test]
    fn list_phones_query_round_trips_filters() {
        let mut query = ListPhonesQuery::new()
            .with_limit(200)
            .unwrap()
            .with_offset(5);
        query.server_id = Some("srv".into());
        query.status = Some(PhoneStatus::Running);
        query.phone_type = Some(0);
        let pairs = query.to_pairs();
        assert!(pairs.contains(&("status", "2".to_owned())));
        assert_eq!(ListPhonesQuery::from_pairs(pairs).unwrap(), query);
        assert!(ListPhonesQuery::new().with_limit(201).is_err());
        assert_eq!(
            ListPhonesQuery::from_pairs([("status", "")]).unwrap(),
            ListPhonesQuery::new()
        );
    }
}
