//! The simulated CPH service without HTTP: phones, jobs and request ids in memory, one method per
//! API operation, fault decisions and counters. Every method takes `now`, so tests drive time.
//!
//! Lookups are O(1) or O(log n): phones, jobs and requests are indexed by id, and job ends wait in
//! a time-ordered queue that each call drains up to `now` (lazy settling, no timers). Ended jobs
//! wait in a second time-ordered queue until they are older than the retention, then are forgotten
//! the same lazy way. The tickets BatchShowPhoneConnectInfos issues are remembered the same lazy
//! way ([`Tickets`]) for the stand-in of the phone's access gateway ([`Backend::connect`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use cph_types::{
    AccessInfo, BatchEntry, BatchOperation, BatchResponse, BucketName, ConnectError, ConnectInfo,
    ConnectionResponse, ImageId, Job, JobId, JobStatus, ListCloudPhonesResponse, ListJobsQuery,
    ListPhonesQuery, PhoneDetail, PhoneId, PhoneJob, PhoneStatus, PhoneSummary, PropertyMap,
    PropertyString, ResetPhone, RestartPhone, RestoreInfo, Secret, ShowJobResponse, StorageInfo,
    UpdatePropertyPhone, validate_properties,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::format_api_time;
use crate::config::{Faults, SimConfig};
use crate::decode::{ConnectionAsk, Submission, Submitted};
use crate::error::{SIM_JOB_FAILED, SIM_RESTORE_NEWER_VERSION, SimError};
use crate::ids::IdGenerator;
use crate::lifecycle::{Outcome, Transition, job_status, settled_status, transition};
use crate::stats::Stats;
use crate::tickets::{Refusal, Tickets};

/// Phones per simulated server.
const PHONES_PER_SERVER: usize = 4;
/// The most bytes ShowCloudPhoneDetail's `property` string takes, as the API documents it. A
/// phone holding more shows the longest key-order prefix of its properties that fits (the
/// simulator's choice: the real service's behaviour beyond the limit is not documented).
pub const DETAIL_PROPERTY_BYTES_MAX: usize = 2048;
/// Seed offsets keep the id, outcome and fault sequences independent of each other.
const OUTCOME_SEED_OFFSET: u64 = 0x0c0f_fee0;
const FAULT_SEED_OFFSET: u64 = 0x0fa1_7000;

/// One simulated phone.
#[derive(Debug, Clone)]
struct Phone {
    id: String,
    name: String,
    server_id: String,
    image_id: String,
    imei: String,
    index: usize,
    /// The settled status (the status shown while a job runs comes from its transition).
    status: PhoneStatus,
    created: SystemTime,
    updated: SystemTime,
    properties: PropertyMap,
    custom_property: Option<String>,
    /// The unfinished job on this phone, if any.
    active_job: Option<usize>,
    /// Deleted (through the admin API): the service no longer knows it.
    deleted: bool,
    /// The Android (AOSP) version of its image, e.g. 11: shown as `image_version` `AOSP11`.
    android: u8,
}

/// What a successful job changes on its phone besides the status.
#[derive(Debug, Clone, Default)]
struct Effect {
    /// Wipe every property first (factory reset).
    wipe: bool,
    /// Properties to set.
    properties: Option<PropertyMap>,
    /// Custom properties to set.
    custom_property: Option<String>,
    /// Image to switch to.
    image_id: Option<String>,
    /// The OBS object (bucket, path) an export writes.
    export: Option<(String, String)>,
    /// The OBS object (bucket, path) a restore reads.
    restore: Option<(String, String)>,
}

impl Effect {
    /// What a reset or a restart changes besides the status: `property` (checked against the
    /// catalogue) and the image.
    fn reboot(
        phone_id: &PhoneId,
        property: Option<&PropertyString>,
        image_id: Option<&ImageId>,
    ) -> Result<Effect, SimError> {
        Ok(Effect {
            properties: property
                .map(|property| catalogued(phone_id, property))
                .transpose()?,
            image_id: image_id.map(ImageId::to_string),
            ..Effect::default()
        })
    }
}

/// One job.
#[derive(Debug, Clone)]
struct JobRecord {
    id: String,
    /// The request id of the batch call that created it.
    request: String,
    phone: usize,
    transition: Transition,
    begin: SystemTime,
    end: SystemTime,
    outcome: Outcome,
    effect: Effect,
}

/// The mutable state, behind one lock.
#[derive(Debug)]
struct State {
    ids: IdGenerator,
    outcomes: StdRng,
    fault_rng: StdRng,
    faults: Faults,
    phones: Vec<Phone>,
    phone_index: HashMap<String, usize>,
    /// Every job still remembered, by job key (keys follow submit order and are never reused).
    jobs: BTreeMap<usize, JobRecord>,
    /// The key of the next job.
    next_job: usize,
    /// Job id -> job key.
    job_index: HashMap<String, usize>,
    /// Request id -> its remembered jobs, in submit order (no entry once none is left).
    requests: HashMap<String, Vec<usize>>,
    /// (end instant, job key) of every unsettled job.
    due: BTreeSet<(SystemTime, usize)>,
    /// (end instant, job key) of every settled job still remembered.
    ended: BTreeSet<(SystemTime, usize)>,
    /// How long an ended job stays remembered after its end.
    retention: Duration,
    /// Phones whose next job fails whatever the failure rate.
    doomed: HashSet<String>,
    /// The OBS objects exports wrote: (bucket, path) -> the AOSP version of the phone exported.
    objects: HashMap<(String, String), u8>,
    /// Every ticket issued and not yet forgotten, for the access gateway's stand-in.
    tickets: Tickets,
    stats: Stats,
}

/// A fault injected after the service performed a batch operation, instead of its 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActedFault {
    /// Answer 500 `CPS.0003` under the request id the jobs were recorded with.
    Error,
    /// Close the connection without any answer.
    Drop,
}

impl ActedFault {
    /// Its key in [`Stats::faults_injected`].
    pub(crate) fn stats_key(self) -> &'static str {
        match self {
            ActedFault::Error => "acted_500",
            ActedFault::Drop => "acted_drop",
        }
    }
}

/// How much of a phone's properties a detail shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PropertyView {
    /// Every property (the admin view, the in-process controls).
    Whole,
    /// At most [`DETAIL_PROPERTY_BYTES_MAX`] bytes, as ShowCloudPhoneDetail answers.
    Capped,
}

/// `properties` as ShowCloudPhoneDetail's `property` string: the whole JSON object when it fits
/// in `max` bytes, otherwise the JSON object of the entries in key order up to (not including)
/// the first one that would make it exceed `max`. Always valid JSON, at most `max` bytes (for
/// `max >= 2`), and byte-identical to [`PropertyMap::to_api_string`] of that prefix.
fn capped_property_string(properties: &PropertyMap, max: usize) -> String {
    let whole = properties.to_api_string();
    if whole.byte_len() <= max {
        return whole.as_str().to_owned();
    }
    let mut text = String::from("{");
    for (key, value) in properties.iter() {
        let entry = format!(
            "{}:{}",
            Value::String(key.to_owned()),
            Value::String(value.to_owned())
        );
        let separator = usize::from(text.len() > 1);
        // the entry, its separating comma, and the closing brace must fit
        if text.len() + separator + entry.len() + 1 > max {
            break;
        }
        if separator == 1 {
            text.push(',');
        }
        text.push_str(&entry);
    }
    text.push('}');
    text
}

/// A fault decision for one request: latency to add, and maybe an answer to give instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FaultDecision {
    /// Added latency.
    pub(crate) delay: Duration,
    /// The injected error, when the request must not reach the service.
    pub(crate) error: Option<SimError>,
}

/// ListJobs' answer; unset fields are `""` as the service writes them there.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ListJobsAnswer {
    request_id: String,
    jobs: Vec<ListedJob>,
}

/// One job of a ListJobs page.
#[derive(Debug, Clone, Serialize)]
struct ListedJob {
    job_id: String,
    phone_id: String,
    server_id: String,
    node_id: String,
    status: i64,
    begin_time: String,
    end_time: String,
    error_code: String,
    error_msg: String,
    execute_msg: String,
}

/// The simulated service.
#[derive(Debug)]
pub(crate) struct Backend {
    state: Mutex<State>,
    job_duration: Duration,
}

/// Parses a `property` string and checks it against the catalogue: a known key with a value
/// outside its rule is `CPS.0004` for the phone.
fn catalogued(phone_id: &PhoneId, property: &PropertyString) -> Result<PropertyMap, SimError> {
    let map = property.to_map().map_err(SimError::from_rule)?;
    let report = validate_properties(phone_id.as_str(), &map);
    match report.errors.first() {
        Some(issue) => Err(SimError::invalid("property", issue.to_string())),
        None => Ok(map),
    }
}

/// What the types alone cannot check of an entry ([`BatchEntry::check`]): its first problem.
fn entry_rules<E: BatchEntry>(entry: &E) -> Result<(), SimError> {
    let mut problems = Vec::new();
    entry.check(&mut problems);
    problems
        .into_iter()
        .next()
        .map_or(Ok(()), |problem| Err(SimError::from_rule(problem)))
}

/// The OBS object an entry names: (bucket, path).
fn obs_object(bucket: &BucketName, path: &str) -> (String, String) {
    (bucket.to_string(), path.to_owned())
}

/// Where the phone at `index` of the fixture sits: its server's address octet (1..=250) and its
/// slot on that server.
fn phone_address(index: usize) -> (usize, usize) {
    (
        index / PHONES_PER_SERVER % 250 + 1,
        index % PHONES_PER_SERVER,
    )
}

/// The name BatchShowPhoneConnectInfos' refusals give the operation.
const CONNECT_OPERATION: &str = "BatchShowPhoneConnectInfos";

/// A page position or size as an index.
fn index(value: u32) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// The AOSP version of the phone at `index` of the fixture: 10, 11 or 12, decided by the seed.
fn aosp_version(seed: u64, index: usize) -> u8 {
    let offset = (seed % 3) as usize;
    10 + u8::try_from((index + offset) % 3).unwrap_or(0)
}

impl State {
    fn lock(mutex: &Mutex<State>) -> MutexGuard<'_, State> {
        mutex.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ends every job due by `now`: the phone takes its settled status and the job's effect.
    fn settle(&mut self, now: SystemTime) {
        while let Some(&(end, job_index)) = self.due.first() {
            if end > now {
                break;
            }
            self.due.pop_first();
            let Some(job) = self.jobs.get(&job_index) else {
                continue;
            };
            self.ended.insert((job.end, job_index));
            let Some(phone) = self.phones.get_mut(job.phone) else {
                continue;
            };
            phone.status = settled_status(&job.transition, phone.status, &job.outcome);
            phone.updated = job.end;
            if phone.active_job == Some(job_index) {
                phone.active_job = None;
            }
            if job.outcome == Outcome::Success {
                let effect = &job.effect;
                if effect.wipe {
                    phone.properties = PropertyMap::new();
                    phone.custom_property = None;
                }
                if let Some(properties) = &effect.properties {
                    for (key, value) in properties.iter() {
                        phone.properties.insert(key, value);
                    }
                }
                if let Some(custom) = &effect.custom_property {
                    phone.custom_property = Some(custom.clone());
                }
                if let Some(image) = &effect.image_id {
                    phone.image_id = image.clone();
                }
                if let Some(object) = &effect.export {
                    self.objects.insert(object.clone(), phone.android);
                }
            }
        }
        self.forget(now);
    }

    /// Forgets every ended job whose end is more than the retention before `now`: ShowJob no
    /// longer finds it, ListJobs no longer lists it, its request no longer has it. Its effects on
    /// the phone stay. A retention too large to add to a job's end keeps the job forever.
    fn forget(&mut self, now: SystemTime) {
        let mut requests = HashSet::new();
        while let Some(&(end, job_key)) = self.ended.first() {
            let expired = end
                .checked_add(self.retention)
                .is_some_and(|kept_until| kept_until < now);
            if !expired {
                break;
            }
            self.ended.pop_first();
            if let Some(job) = self.jobs.remove(&job_key) {
                self.job_index.remove(&job.id);
                requests.insert(job.request);
            }
        }
        for request in requests {
            if let Some(keys) = self.requests.get_mut(&request) {
                keys.retain(|key| self.jobs.contains_key(key));
                if keys.is_empty() {
                    self.requests.remove(&request);
                }
            }
        }
    }

    /// The phone of that id, if the fixture has it.
    fn phone(&self, phone_id: &str) -> Option<&Phone> {
        self.phone_index
            .get(phone_id)
            .and_then(|&i| self.phones.get(i))
    }

    /// The status a phone shows now (its job's transitional status while one runs).
    fn visible_status(&self, phone: &Phone) -> PhoneStatus {
        phone
            .active_job
            .and_then(|j| self.jobs.get(&j))
            .and_then(|job| job.transition.during())
            .unwrap_or(phone.status)
    }

    fn summary(&self, phone: &Phone) -> PhoneSummary {
        PhoneSummary {
            phone_name: Some(phone.name.clone()),
            server_id: Some(phone.server_id.clone()),
            phone_id: Some(phone.id.clone()),
            phone_model_name: Some("cph.sim.large".to_owned()),
            image_id: Some(phone.image_id.clone()),
            image_version: Some(format!("AOSP{}", phone.android)),
            status: Some(self.visible_status(phone)),
            phone_type: Some(0),
            imei: Some(phone.imei.clone()),
            availability_zone: Some("sim-zone-1a".to_owned()),
            create_time: Some(format_api_time(phone.created)),
            update_time: Some(format_api_time(phone.updated)),
        }
    }

    fn detail(&self, phone: &Phone, request_id: Option<String>, view: PropertyView) -> PhoneDetail {
        let (server_octet, slot) = phone_address(phone.index);
        let property = match view {
            PropertyView::Whole => phone.properties.to_api_string().into(),
            PropertyView::Capped => {
                capped_property_string(&phone.properties, DETAIL_PROPERTY_BYTES_MAX)
            }
        };
        PhoneDetail {
            request_id,
            summary: self.summary(phone),
            property: Some(property),
            custom_property: phone.custom_property.clone(),
            access_infos: Some(json!([{
                "type": "adb",
                "device_ip": format!("10.0.{server_octet}.{}", slot + 10),
                "listen_port": 20000 + slot,
                "access_port": 5555,
            }])),
            phone_data_volume: Some(json!({
                "volume_type": "SSD",
                "volume_size": 32,
            })),
        }
    }

    /// How a client reaches a running phone now: a new session id and ticket, remembered for the
    /// access gateway's stand-in as issued at `now` to the millisecond (what `timestamp` shows).
    fn access_info(&mut self, phone_id: &PhoneId, now: SystemTime) -> Result<AccessInfo, SimError> {
        if !phone_id.is_service_issued() {
            return Err(SimError::PhoneIdInvalid {
                phone_id: phone_id.to_string(),
            });
        }
        let phone = self
            .phone(phone_id.as_str())
            .ok_or_else(|| SimError::PhoneNotFound {
                phone_id: phone_id.to_string(),
            })?;
        let status = self.visible_status(phone);
        if status != PhoneStatus::Running {
            return Err(SimError::StatusForbids {
                phone_id: phone_id.to_string(),
                status: status.name(),
                operation: CONNECT_OPERATION,
            });
        }
        let (server_octet, slot) = phone_address(phone.index);
        let since_epoch = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let issued_ms = since_epoch.as_millis();
        let sub_milli = Duration::from_nanos(u64::from(since_epoch.subsec_nanos() % 1_000_000));
        let issued = now.checked_sub(sub_milli).unwrap_or(now);
        let session_id = self.ids.next_id();
        let ticket = format!("{}{}", self.ids.next_id(), self.ids.next_id());
        self.tickets
            .issue(ticket.clone(), phone_id.as_str(), &session_id, issued, now);
        Ok(AccessInfo {
            access_ip: Some(format!("203.0.113.{server_octet}")),
            intranet_ip: Some(format!("10.0.{server_octet}.{}", slot + 10)),
            access_ipv6: None,
            access_port: i64::try_from(20000 + slot).ok(),
            session_id: Some(Secret::new(session_id)),
            timestamp: Some(issued_ms.to_string()),
            ticket: Some(Secret::new(ticket)),
        })
    }

    fn job_view(&self, job: &JobRecord, now: SystemTime) -> Job {
        let status = job_status(now, job.end, &job.outcome);
        let (error_code, error_msg) = match (&job.outcome, status) {
            (Outcome::Failed { code, msg }, JobStatus::Failed) => {
                (Some(code.clone()), Some(msg.clone()))
            }
            _ => (None, None),
        };
        let phone = self.phones.get(job.phone);
        Job {
            job_id: Some(job.id.clone()),
            phone_id: phone.map(|p| p.id.clone()),
            server_id: phone.map(|p| p.server_id.clone()),
            node_id: None,
            status,
            begin_time: Some(format_api_time(job.begin)),
            end_time: status.is_finished().then(|| format_api_time(job.end)),
            error_code,
            error_msg,
            execute_msg: None,
        }
    }
}

impl Backend {
    /// A service with the fixture of `config.phones` running phones, all created at `now`.
    pub(crate) fn new(config: &SimConfig, now: SystemTime) -> Self {
        let mut ids = IdGenerator::new(config.seed);
        let mut phones = Vec::with_capacity(config.phones);
        let mut phone_index = HashMap::with_capacity(config.phones);
        let mut server_id = String::new();
        let image_id = ids.next_id();
        for index in 0..config.phones {
            if index % PHONES_PER_SERVER == 0 {
                server_id = ids.next_id();
            }
            let id = ids.next_id();
            phone_index.insert(id.clone(), index);
            phones.push(Phone {
                id,
                name: format!("sim-phone-{:04}", index + 1),
                server_id: server_id.clone(),
                image_id: image_id.clone(),
                imei: ids.next_digits15(),
                index,
                status: PhoneStatus::Running,
                created: now,
                updated: now,
                properties: PropertyMap::new(),
                custom_property: None,
                active_job: None,
                deleted: false,
                android: aosp_version(config.seed, index),
            });
        }
        let state = State {
            ids,
            outcomes: StdRng::seed_from_u64(config.seed.wrapping_add(OUTCOME_SEED_OFFSET)),
            fault_rng: StdRng::seed_from_u64(config.seed.wrapping_add(FAULT_SEED_OFFSET)),
            faults: config.faults.clone(),
            phones,
            phone_index,
            jobs: BTreeMap::new(),
            next_job: 0,
            job_index: HashMap::new(),
            requests: HashMap::new(),
            due: BTreeSet::new(),
            ended: BTreeSet::new(),
            retention: config.job_retention,
            doomed: HashSet::new(),
            objects: HashMap::new(),
            tickets: Tickets::default(),
            stats: Stats::default(),
        };
        Backend {
            state: Mutex::new(state),
            job_duration: config.job_duration,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        State::lock(&self.state)
    }

    /// A fresh request id for one API call.
    pub(crate) fn new_request_id(&self) -> String {
        self.state().ids.next_id()
    }

    /// Counts one `/v1` request for `operation` (`None`: no such API), received at `now`.
    pub(crate) fn count_request(&self, operation: Option<&str>, now: SystemTime) {
        self.state().stats.count_request(operation, now);
    }

    /// Counts one request to a simulator route outside `/v1` under `name` (not in the total of
    /// `/v1` requests).
    pub(crate) fn count_sim_request(&self, name: &str) {
        self.state().stats.count_sim_request(name);
    }

    /// The stand-in for the phone's access gateway: lets `ticket` connect to `phone_id` at `now`
    /// when BatchShowPhoneConnectInfos issued it for that phone and `session_id` less than
    /// [`cph_types::TICKET_LIFETIME`] ago, counting the connection; otherwise says why not. A
    /// ticket may connect any number of times while valid, as long as the phone is running: a valid
    /// ticket of a phone stopped (or restarting, resetting) since is refused `NotRunning`.
    pub(crate) fn connect(
        &self,
        phone_id: &str,
        session_id: &str,
        ticket: &str,
        now: SystemTime,
    ) -> Result<(), Refusal> {
        let mut state = self.state();
        state
            .tickets
            .check(phone_id, Some(session_id), ticket, now)?;
        state.settle(now);
        let running = state
            .phone(phone_id)
            .is_some_and(|phone| state.visible_status(phone) == PhoneStatus::Running);
        if !running {
            return Err(Refusal::NotRunning);
        }
        state.stats.count_connection();
        Ok(())
    }

    /// Every ticket and session id BatchShowPhoneConnectInfos issued that is still remembered.
    pub(crate) fn issued_secrets(&self) -> Vec<String> {
        self.state().tickets.secrets()
    }

    /// Whether `ticket` was issued for `phone_id` (whatever the session) and is still valid at
    /// `now`; counts nothing.
    pub(crate) fn ticket_is_valid(&self, phone_id: &str, ticket: &str, now: SystemTime) -> bool {
        self.state()
            .tickets
            .check(phone_id, None, ticket, now)
            .is_ok()
    }

    /// Decides the faults of one request before the service acts, counting injected ones.
    pub(crate) fn decide_faults(&self) -> FaultDecision {
        let mut state = self.state();
        let state = &mut *state;
        let faults = &state.faults;
        let jitter = if faults.latency_jitter_ms > 0 {
            state.fault_rng.random_range(0..=faults.latency_jitter_ms)
        } else {
            0
        };
        let delay = Duration::from_millis(faults.latency_ms.saturating_add(jitter));
        let error = if faults.throttle_rate > 0.0
            && state.fault_rng.random::<f64>() < faults.throttle_rate
        {
            Some(SimError::Throttled)
        } else if faults.server_error_rate > 0.0
            && state.fault_rng.random::<f64>() < faults.server_error_rate
        {
            Some(SimError::ServerError {
                status: faults.effective_server_error_status(),
            })
        } else {
            None
        };
        if let Some(error) = &error {
            state.stats.count_fault(error.http_status());
        }
        FaultDecision { delay, error }
    }

    /// Decides whether a batch operation the service has just performed (and would answer 200)
    /// gets an acted fault instead, counting it under [`ActedFault::stats_key`]. Draws from the
    /// seeded fault generator only for a rate above 0: `acted_error_rate` first, then
    /// `acted_drop_rate` when no acted error was drawn.
    pub(crate) fn decide_acted_fault(&self) -> Option<ActedFault> {
        let mut state = self.state();
        let state = &mut *state;
        let faults = &state.faults;
        let fault = if faults.acted_error_rate > 0.0
            && state.fault_rng.random::<f64>() < faults.acted_error_rate
        {
            Some(ActedFault::Error)
        } else if faults.acted_drop_rate > 0.0
            && state.fault_rng.random::<f64>() < faults.acted_drop_rate
        {
            Some(ActedFault::Drop)
        } else {
            None
        };
        if let Some(fault) = fault {
            state.stats.count_fault_named(fault.stats_key());
        }
        fault
    }

    /// The faults in force.
    pub(crate) fn faults(&self) -> Faults {
        self.state().faults.clone()
    }

    /// Replaces the faults in force after checking them.
    pub(crate) fn set_faults(&self, faults: Faults) -> Result<(), SimError> {
        faults.validate()?;
        self.state().faults = faults;
        Ok(())
    }

    /// A copy of the counters.
    pub(crate) fn stats(&self) -> Stats {
        self.state().stats.clone()
    }

    /// Zeroes the counters.
    pub(crate) fn reset_stats(&self) {
        self.state().stats = Stats::default();
    }

    /// Phone ids in fixture order.
    pub(crate) fn phone_ids(&self) -> Vec<String> {
        self.state()
            .phones
            .iter()
            .filter(|p| !p.deleted)
            .map(|p| p.id.clone())
            .collect()
    }

    /// Every phone as ShowCloudPhoneDetail would answer it (without request id), fixture order,
    /// but with every property (the detail caps `property` at [`DETAIL_PROPERTY_BYTES_MAX`]).
    pub(crate) fn phones(&self, now: SystemTime) -> Vec<PhoneDetail> {
        let mut state = self.state();
        state.settle(now);
        state
            .phones
            .iter()
            .filter(|p| !p.deleted)
            .map(|p| state.detail(p, None, PropertyView::Whole))
            .collect()
    }

    /// One phone as ShowCloudPhoneDetail would answer it (without request id), but with every
    /// property.
    pub(crate) fn phone(&self, phone_id: &str, now: SystemTime) -> Option<PhoneDetail> {
        let mut state = self.state();
        state.settle(now);
        state
            .phone(phone_id)
            .map(|p| state.detail(p, None, PropertyView::Whole))
    }

    /// Changes one property out of band (drift). `false` when the phone is unknown.
    pub(crate) fn set_phone_property(
        &self,
        phone_id: &str,
        key: &str,
        value: &str,
        now: SystemTime,
    ) -> bool {
        let mut state = self.state();
        state.settle(now);
        let Some(&index) = state.phone_index.get(phone_id) else {
            return false;
        };
        match state.phones.get_mut(index) {
            Some(phone) => {
                phone.properties.insert(key, value);
                phone.updated = now;
                true
            }
            None => false,
        }
    }

    /// Deletes a phone: every API answers for it as for an unknown phone (its jobs stay known).
    /// `false` when the phone is unknown.
    pub(crate) fn delete_phone(&self, phone_id: &str) -> bool {
        let mut state = self.state();
        let Some(index) = state.phone_index.remove(phone_id) else {
            return false;
        };
        if let Some(phone) = state.phones.get_mut(index) {
            phone.deleted = true;
        }
        true
    }

    /// Makes the next job created on `phone_id` fail. `false` when the phone is unknown.
    pub(crate) fn fail_next_job(&self, phone_id: &str) -> bool {
        let mut state = self.state();
        if state.phone_index.contains_key(phone_id) {
            state.doomed.insert(phone_id.to_owned());
            true
        } else {
            false
        }
    }

    /// A job's status at `now` (`None` once the job is unknown or forgotten).
    pub(crate) fn job_status(&self, job_id: &str, now: SystemTime) -> Option<JobStatus> {
        let mut state = self.state();
        state.settle(now);
        let job = state.jobs.get(state.job_index.get(job_id)?)?;
        Some(job_status(now, job.end, &job.outcome))
    }

    /// The status a job ends (or ended) with, decided at submit time (`None` once the job is
    /// unknown or forgotten at `now`).
    pub(crate) fn job_outcome(&self, job_id: &str, now: SystemTime) -> Option<JobStatus> {
        let mut state = self.state();
        state.settle(now);
        let job = state.jobs.get(state.job_index.get(job_id)?)?;
        Some(job.outcome.final_status())
    }

    /// ResetCloudPhone: a factory reset of each phone, wiping its properties first when
    /// `factory_reset_enabled`, then setting `property`; every phone switches to `image_id`.
    pub(crate) fn reset_cloud_phone(
        &self,
        request: Submission<ResetPhone>,
        request_id: &str,
        now: SystemTime,
    ) -> Result<BatchResponse, SimError> {
        let image_id = request.shared.image_id.clone();
        self.perform(request, request_id, now, |phone| {
            let reboot =
                Effect::reboot(&phone.phone_id, phone.property.as_ref(), image_id.as_ref());
            Ok(Effect {
                wipe: phone.factory_reset_enabled == Some(true),
                ..reboot?
            })
        })
    }

    /// RestartCloudPhone: restarts each phone (or powers on a stopped one), setting `property`;
    /// every phone switches to `image_id`.
    pub(crate) fn restart_cloud_phone(
        &self,
        request: Submission<RestartPhone>,
        request_id: &str,
        now: SystemTime,
    ) -> Result<BatchResponse, SimError> {
        let image_id = request.shared.image_id.clone();
        self.perform(request, request_id, now, |phone| {
            Effect::reboot(&phone.phone_id, phone.property.as_ref(), image_id.as_ref())
        })
    }

    /// StopCloudPhone: stops each phone.
    pub(crate) fn stop_cloud_phone(
        &self,
        request: Submission<PhoneId>,
        request_id: &str,
        now: SystemTime,
    ) -> Result<BatchResponse, SimError> {
        self.perform(request, request_id, now, |_| Ok(Effect::default()))
    }

    /// UpdateCloudPhoneProperty: sets each phone's `property` (checked against the catalogue)
    /// and `custom_property`.
    pub(crate) fn update_cloud_phone_property(
        &self,
        request: Submission<UpdatePropertyPhone>,
        request_id: &str,
        now: SystemTime,
    ) -> Result<BatchResponse, SimError> {
        self.perform(request, request_id, now, |phone| {
            Ok(Effect {
                properties: Some(catalogued(&phone.phone_id, &phone.property)?),
                custom_property: phone
                    .custom_property
                    .as_ref()
                    .map(|custom| custom.as_str().to_owned()),
                ..Effect::default()
            })
        })
    }

    /// BatchImportCloudPhoneData: restores each phone from its OBS object (failing the job when
    /// the object was exported from a newer Android version than the phone's).
    pub(crate) fn restore_cloud_phone_data(
        &self,
        request: Submission<RestoreInfo>,
        request_id: &str,
        now: SystemTime,
    ) -> Result<BatchResponse, SimError> {
        self.perform(request, request_id, now, |info| {
            Ok(Effect {
                restore: Some(obs_object(&info.bucket_name, info.object_path.as_str())),
                ..Effect::default()
            })
        })
    }

    /// BatchExportCloudPhoneData: exports each phone's selected files to its OBS object.
    pub(crate) fn export_cloud_phone_data(
        &self,
        request: Submission<StorageInfo>,
        request_id: &str,
        now: SystemTime,
    ) -> Result<BatchResponse, SimError> {
        self.perform(request, request_id, now, |info| {
            Ok(Effect {
                export: Some(obs_object(&info.bucket_name, info.object_path.as_str())),
                ..Effect::default()
            })
        })
    }

    /// What every batch operation does: answers each phone, in order, with its job or its
    /// rejection (HTTP 200 either way). A decoded entry is checked (its id's form, its rules,
    /// `effect`'s catalogue checks, the phone's existence, an unfinished job, its status) before
    /// its job is created with what `effect` says the job changes.
    fn perform<E: BatchEntry>(
        &self,
        request: Submission<E>,
        request_id: &str,
        now: SystemTime,
        effect: impl Fn(&E) -> Result<Effect, SimError>,
    ) -> Result<BatchResponse, SimError> {
        let mut state = self.state();
        state.settle(now);
        let mut jobs = Vec::with_capacity(request.entries.len());
        let mut job_keys = Vec::new();
        for submitted in request.entries {
            let (phone_id, result) = match submitted {
                Submitted::Rejected { phone_id, error } => (phone_id, Err(error)),
                Submitted::Entry(entry) => {
                    let prepare = || entry_rules(&entry).and_then(|()| effect(&entry));
                    let phone_id = entry.phone_id();
                    let result = state.submit_one(
                        E::OPERATION,
                        phone_id,
                        prepare,
                        request_id,
                        now,
                        self.job_duration,
                    );
                    (phone_id.to_string(), result)
                }
            };
            match result {
                Ok((job_key, job_id)) => {
                    state.stats.count_submission(&phone_id);
                    job_keys.push(job_key);
                    jobs.push(PhoneJob {
                        phone_id: Some(phone_id),
                        job_id: Some(job_id),
                        error_code: None,
                        error_msg: None,
                    });
                }
                Err(error) => {
                    state.stats.count_rejection(&phone_id);
                    jobs.push(PhoneJob {
                        phone_id: Some(phone_id),
                        job_id: None,
                        error_code: Some(error.error_code().to_owned()),
                        error_msg: Some(error.error_msg()),
                    });
                }
            }
        }
        if !job_keys.is_empty() {
            state.requests.insert(request_id.to_owned(), job_keys);
        }
        Ok(BatchResponse {
            request_id: Some(request_id.to_owned()),
            jobs,
        })
    }

    /// BatchShowPhoneConnectInfos: how a client reaches each running phone, with a fresh session
    /// id and ticket per phone and call (drawn from the seeded id generator, valid for
    /// [`cph_types::TICKET_LIFETIME`] at [`Backend::connect`]) and `timestamp` the issue time in
    /// Unix milliseconds; any other phone is in `errors` (malformed id `CPS.0004`,
    /// unknown `CPS.0005`, not running [`crate::error::SIM_PHONE_BUSY`]). The client type is
    /// accepted as it is: every client reaches a phone the same way here.
    pub(crate) fn batch_show_phone_connect_infos(
        &self,
        request: ConnectionAsk,
        request_id: &str,
        now: SystemTime,
    ) -> Result<ConnectionResponse, SimError> {
        let mut state = self.state();
        state.settle(now);
        let mut answer = ConnectionResponse {
            request_id: Some(request_id.to_owned()),
            ..ConnectionResponse::default()
        };
        for phone in request.phones {
            let (phone_id, access) = match phone {
                Submitted::Rejected { phone_id, error } => (phone_id, Err(error)),
                Submitted::Entry(id) => {
                    let access = state.access_info(&id, now);
                    (id.into_string(), access)
                }
            };
            match access {
                Ok(access_info) => answer.connect_infos.push(ConnectInfo {
                    phone_id: Some(phone_id),
                    access_info: Some(access_info),
                }),
                Err(error) => answer.errors.push(ConnectError {
                    phone_id: Some(phone_id),
                    error_code: Some(error.error_code().to_owned()),
                    error_msg: Some(error.error_msg()),
                }),
            }
        }
        Ok(answer)
    }

    /// ShowJob.
    pub(crate) fn show_job(
        &self,
        job_id: JobId,
        request_id: &str,
        now: SystemTime,
    ) -> Result<ShowJobResponse, SimError> {
        let mut state = self.state();
        state.settle(now);
        let job = state
            .job_index
            .get(job_id.as_str())
            .and_then(|j| state.jobs.get(j))
            .ok_or_else(|| SimError::JobNotFound {
                job_id: job_id.into_string(),
            })?;
        Ok(ShowJobResponse {
            request_id: Some(request_id.to_owned()),
            job: state.job_view(job, now),
        })
    }

    /// ListJobs: the jobs of the query's request ids in submit order (every job of the project
    /// when it names none), one page.
    pub(crate) fn list_jobs(
        &self,
        query: ListJobsQuery,
        request_id: &str,
        now: SystemTime,
    ) -> Result<ListJobsAnswer, SimError> {
        let (offset, limit) = (index(query.offset()), index(query.limit()));
        let mut state = self.state();
        state.settle(now);
        let state = &*state;
        let jobs: Box<dyn Iterator<Item = &JobRecord>> = if query.request_ids().is_empty() {
            Box::new(state.jobs.values())
        } else {
            Box::new(
                query
                    .request_ids()
                    .iter()
                    .filter_map(|id| state.requests.get(id.as_str()))
                    .flatten()
                    .filter_map(|j| state.jobs.get(j)),
            )
        };
        let listed = jobs
            .skip(offset)
            .take(limit)
            .map(|job| listed(state.job_view(job, now)))
            .collect();
        Ok(ListJobsAnswer {
            request_id: request_id.to_owned(),
            jobs: listed,
        })
    }

    /// ListCloudPhones: filters `phone_name` (substring), `server_id`, `status`, `type`, one
    /// page; `count` is the number of matching phones on all pages.
    pub(crate) fn list_cloud_phones(
        &self,
        query: ListPhonesQuery,
        request_id: &str,
        now: SystemTime,
    ) -> Result<ListCloudPhonesResponse, SimError> {
        let (offset, limit) = (index(query.offset()), index(query.limit()));
        let mut state = self.state();
        state.settle(now);
        let state = &*state;
        let mut count = 0usize;
        let mut phones = Vec::new();
        for phone in state.phones.iter().filter(|p| !p.deleted) {
            let matches = query
                .phone_name
                .as_deref()
                .is_none_or(|n| phone.name.contains(n))
                && query
                    .server_id
                    .as_deref()
                    .is_none_or(|s| phone.server_id == s)
                && query
                    .status
                    .is_none_or(|s| state.visible_status(phone) == s)
                && query.phone_type.is_none_or(|t| t == 0);
            if matches {
                if count >= offset && phones.len() < limit {
                    phones.push(state.summary(phone));
                }
                count += 1;
            }
        }
        Ok(ListCloudPhonesResponse {
            request_id: Some(request_id.to_owned()),
            count: i64::try_from(count).ok(),
            phones,
        })
    }

    /// ShowCloudPhoneDetail: `CPS.0004` for an id not of the service-issued form, `CPS.0005`
    /// for an unknown one.
    pub(crate) fn show_cloud_phone_detail(
        &self,
        phone_id: PhoneId,
        request_id: &str,
        now: SystemTime,
    ) -> Result<PhoneDetail, SimError> {
        if !phone_id.is_service_issued() {
            return Err(SimError::PhoneIdInvalid {
                phone_id: phone_id.into_string(),
            });
        }
        let mut state = self.state();
        state.settle(now);
        let phone = state
            .phone(phone_id.as_str())
            .ok_or_else(|| SimError::PhoneNotFound {
                phone_id: phone_id.to_string(),
            })?;
        Ok(state.detail(phone, Some(request_id.to_owned()), PropertyView::Capped))
    }
}

fn listed(job: Job) -> ListedJob {
    ListedJob {
        job_id: job.job_id.unwrap_or_default(),
        phone_id: job.phone_id.unwrap_or_default(),
        server_id: job.server_id.unwrap_or_default(),
        node_id: job.node_id.unwrap_or_default(),
        status: job.status.code().unwrap_or_default(),
        begin_time: job.begin_time.unwrap_or_default(),
        end_time: job.end_time.unwrap_or_default(),
        error_code: job.error_code.unwrap_or_default(),
        error_msg: job.error_msg.unwrap_or_default(),
        execute_msg: job.execute_msg.unwrap_or_default(),
    }
}

impl State {
    /// Checks one phone's entry and creates its job: the id's form (`CPS.0004`), then what
    /// `prepare` checks of the entry (`CPS.0004`) and returns as the job's effect, then the
    /// phone's existence (`CPS.0005`), an unfinished job or a refusing status
    /// ([`crate::error::SIM_PHONE_BUSY`]). The job is recorded under `request_id`.
    fn submit_one(
        &mut self,
        operation: BatchOperation,
        phone_id: &PhoneId,
        prepare: impl FnOnce() -> Result<Effect, SimError>,
        request_id: &str,
        now: SystemTime,
        duration: Duration,
    ) -> Result<(usize, String), SimError> {
        let not_found = || SimError::PhoneNotFound {
            phone_id: phone_id.to_string(),
        };
        if !phone_id.is_service_issued() {
            return Err(SimError::PhoneIdInvalid {
                phone_id: phone_id.to_string(),
            });
        }
        let effect = prepare()?;
        let phone_index = *self
            .phone_index
            .get(phone_id.as_str())
            .ok_or_else(not_found)?;
        let phone = self.phones.get(phone_index).ok_or_else(not_found)?;
        if let Some(job) = phone.active_job.and_then(|j| self.jobs.get(&j)) {
            return Err(SimError::PhoneBusy {
                phone_id: phone_id.to_string(),
                job_id: job.id.clone(),
            });
        }
        let transition = transition(operation, phone.status).ok_or(SimError::StatusForbids {
            phone_id: phone_id.to_string(),
            status: phone.status.name(),
            operation: operation.api_name(),
        })?;
        // Data exported from a newer Android version cannot be restored onto an older one; an
        // object the simulator never saw is taken as a backup of the phone's own version.
        let newer = effect
            .restore
            .as_ref()
            .and_then(|object| self.objects.get(object))
            .copied()
            .filter(|&version| version > phone.android);
        let doomed = self.doomed.remove(phone_id.as_str());
        let drawn = self.faults.job_failure_rate > 0.0
            && self.outcomes.random::<f64>() < self.faults.job_failure_rate;
        let outcome = if let Some(version) = newer {
            Outcome::Failed {
                code: SIM_RESTORE_NEWER_VERSION.to_owned(),
                msg: format!(
                    "The backup was exported from AOSP{version} and cannot be restored onto this phone's \
                     AOSP{} (simulated rule: restore onto the same or a newer version).",
                    phone.android
                ),
            }
        } else if doomed || drawn {
            Outcome::Failed {
                code: SIM_JOB_FAILED.to_owned(),
                msg: format!(
                    "{} failed on the phone (simulated failure).",
                    operation.api_name()
                ),
            }
        } else {
            Outcome::Success
        };
        let job_id = self.ids.next_id();
        let job_index = self.next_job;
        self.next_job += 1;
        let end = now + duration;
        self.jobs.insert(
            job_index,
            JobRecord {
                id: job_id.clone(),
                request: request_id.to_owned(),
                phone: phone_index,
                transition,
                begin: now,
                end,
                outcome,
                effect,
            },
        );
        self.job_index.insert(job_id.clone(), job_index);
        self.due.insert((end, job_index));
        // Settled just before: every job still due is unfinished now.
        self.stats.note_running_jobs(self.due.len());
        if let Some(phone) = self.phones.get_mut(phone_index) {
            phone.active_job = Some(job_index);
            phone.updated = now;
        }
        Ok((job_index, job_id))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::decode::{ConnectionAsk, Decode, Input};

    const STEP: Duration = Duration::from_millis(100);

    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn backend(phones: usize) -> Backend {
        backend_with(phones, Faults::default())
    }

    fn backend_with(phones: usize, faults: Faults) -> Backend {
        let config = SimConfig {
            phones,
            job_duration: STEP,
            faults,
            ..SimConfig::default()
        };
        Backend::new(&config, t0())
    }

    fn status(b: &Backend, phone: &str, at: SystemTime) -> i64 {
        b.phone(phone, at).unwrap().summary.status.unwrap().code()
    }

    /// Sends `body` to operation `op` as the routes do: decoded, then the backend method.
    fn try_submit(
        b: &Backend,
        op: BatchOperation,
        body: &Value,
        request_id: &str,
        at: SystemTime,
    ) -> Result<BatchResponse, SimError> {
        fn decoded<E: BatchEntry>(body: &Value) -> Result<Submission<E>, SimError> {
            let bytes = body.to_string();
            Submission::decode(&Input {
                params: &[],
                query: "",
                body: bytes.as_bytes(),
            })
        }
        match op {
            BatchOperation::Reset => b.reset_cloud_phone(decoded(body)?, request_id, at),
            BatchOperation::Restart => b.restart_cloud_phone(decoded(body)?, request_id, at),
            BatchOperation::Stop => b.stop_cloud_phone(decoded(body)?, request_id, at),
            BatchOperation::UpdateProperty => {
                b.update_cloud_phone_property(decoded(body)?, request_id, at)
            }
            BatchOperation::Restore => b.restore_cloud_phone_data(decoded(body)?, request_id, at),
            BatchOperation::Storage => b.export_cloud_phone_data(decoded(body)?, request_id, at),
        }
    }

    fn submit_as(
        b: &Backend,
        op: BatchOperation,
        body: Value,
        request_id: &str,
        at: SystemTime,
    ) -> BatchResponse {
        try_submit(b, op, &body, request_id, at).unwrap()
    }

    fn submit(b: &Backend, op: BatchOperation, body: Value, at: SystemTime) -> BatchResponse {
        submit_as(b, op, body, "req", at)
    }

    fn restart(b: &Backend, ids: &[&str], at: SystemTime) -> BatchResponse {
        let phones: Vec<Value> = ids.iter().map(|id| json!({ "phone_id": id })).collect();
        submit(b, BatchOperation::Restart, json!({ "phones": phones }), at)
    }

    fn jid(id: &str) -> JobId {
        JobId::new(id).unwrap()
    }

    fn job_id(answer: &BatchResponse, i: usize) -> String {
        answer.jobs[i].job_id.clone().expect("an accepted phone")
    }

    fn list(b: &Backend, query: &[(&str, &str)], at: SystemTime) -> Result<Value, SimError> {
        let query =
            ListJobsQuery::from_pairs(query.iter().copied()).map_err(SimError::from_rule)?;
        b.list_jobs(query, "r", at)
            .map(|a| serde_json::to_value(a).unwrap())
    }

    #[test]
    fn restart_moves_the_phone_2_4_2_and_the_job_1_2() {
        let b = backend(2);
        let phone = b.phone_ids()[0].clone();
        assert_eq!(status(&b, &phone, t0()), 2);
        let answer = restart(&b, &[&phone], t0());
        let job = job_id(&answer, 0);
        assert_eq!(status(&b, &phone, t0() + STEP / 2), 4);
        assert_eq!(
            b.job_status(&job, t0() + STEP / 2),
            Some(JobStatus::Running)
        );
        assert_eq!(status(&b, &phone, t0() + STEP), 2);
        assert_eq!(b.job_status(&job, t0() + STEP), Some(JobStatus::Success));
        let shown = b.show_job(jid(&job), "r2", t0() + STEP).unwrap();
        assert_eq!(shown.request_id.as_deref(), Some("r2"));
        assert_eq!(shown.job.phone_id.as_deref(), Some(phone.as_str()));
        assert!(shown.job.end_time.is_some());
        assert_eq!(shown.job.error_code, None);
    }

    #[test]
    fn stop_then_restart_powers_the_phone_on() {
        let b = backend(1);
        let phone = b.phone_ids()[0].clone();
        submit(
            &b,
            BatchOperation::Stop,
            json!({ "phone_ids": [phone] }),
            t0(),
        );
        assert_eq!(status(&b, &phone, t0()), 7);
        assert_eq!(status(&b, &phone, t0() + STEP), 8);
        let again = submit(
            &b,
            BatchOperation::Stop,
            json!({ "phone_ids": [phone] }),
            t0() + STEP,
        );
        assert_eq!(
            again.jobs[0].error_code.as_deref(),
            Some(SIM_PHONE_BUSY_CODE)
        );
        let at = t0() + 2 * STEP;
        restart(&b, &[&phone], at);
        assert_eq!(status(&b, &phone, at), 4);
        assert_eq!(status(&b, &phone, at + STEP), 2);
    }

    const SIM_PHONE_BUSY_CODE: &str = crate::error::SIM_PHONE_BUSY;

    #[test]
    fn failed_jobs_leave_the_failure_status_and_an_error() {
        let b = backend_with(
            3,
            Faults {
                job_failure_rate: 1.0,
                ..Faults::default()
            },
        );
        let ids = b.phone_ids();
        let r = restart(&b, &[&ids[0]], t0());
        let reset = submit(
            &b,
            BatchOperation::Reset,
            json!({ "phones": [{ "phone_id": ids[1] }] }),
            t0(),
        );
        let stop = submit(
            &b,
            BatchOperation::Stop,
            json!({ "phone_ids": [ids[2]] }),
            t0(),
        );
        let after = t0() + STEP;
        assert_eq!(status(&b, &ids[0], after), -6);
        assert_eq!(status(&b, &ids[1], after), -5);
        assert_eq!(status(&b, &ids[2], after), -9);
        for answer in [&r, &reset, &stop] {
            let job = job_id(answer, 0);
            assert_eq!(b.job_outcome(&job, t0()), Some(JobStatus::Failed));
            let shown = b.show_job(jid(&job), "x", after).unwrap().job;
            assert_eq!(shown.status, JobStatus::Failed);
            assert_eq!(shown.error_code.as_deref(), Some(SIM_JOB_FAILED));
            assert!(shown.error_msg.is_some());
        }
        // a restart recovers a phone whose restart failed
        b.set_faults(Faults::default()).unwrap();
        restart(&b, &[&ids[0]], after);
        assert_eq!(status(&b, &ids[0], after + STEP), 2);
    }

    #[test]
    fn a_doomed_phone_fails_its_next_job_only() {
        let b = backend(2);
        let ids = b.phone_ids();
        assert!(b.fail_next_job(&ids[0]));
        assert!(!b.fail_next_job("nope"));
        let first = restart(&b, &[&ids[0], &ids[1]], t0());
        assert_eq!(
            b.job_outcome(&job_id(&first, 0), t0()),
            Some(JobStatus::Failed)
        );
        assert_eq!(
            b.job_outcome(&job_id(&first, 1), t0()),
            Some(JobStatus::Success)
        );
        let second = restart(&b, &[&ids[0]], t0() + STEP);
        assert_eq!(
            b.job_outcome(&job_id(&second, 0), t0()),
            Some(JobStatus::Success)
        );
    }

    #[test]
    fn stats_keep_the_most_jobs_unfinished_at_once() {
        let b = backend(4);
        let ids = b.phone_ids();
        restart(&b, &[&ids[0], &ids[1], &ids[2]], t0());
        assert_eq!(b.stats().peak_running_jobs, 3);
        // Once they have finished, one more job does not raise the peak.
        restart(&b, &[&ids[3]], t0() + STEP * 2);
        assert_eq!(b.stats().peak_running_jobs, 3);
        b.reset_stats();
        restart(&b, &[&ids[0]], t0() + STEP * 4);
        assert_eq!(b.stats().peak_running_jobs, 1);
    }

    #[test]
    fn a_deleted_phone_is_unknown_to_every_operation_and_left_out_of_listings() {
        let b = backend(3);
        let ids = b.phone_ids();
        let first = restart(&b, &[&ids[1]], t0());
        assert!(b.delete_phone(&ids[1]));
        assert!(!b.delete_phone(&ids[1]), "already gone");
        assert!(b.phone(&ids[1], t0()).is_none());
        assert_eq!(b.phone_ids(), vec![ids[0].clone(), ids[2].clone()]);
        let answer = restart(&b, &[&ids[1]], t0() + STEP);
        assert!(answer.jobs[0].is_rejected());
        assert_eq!(
            answer.jobs[0].error_code.as_deref(),
            Some(cph_types::CPS_NOT_FOUND)
        );
        // Its earlier job is still known.
        assert!(b.job_outcome(&job_id(&first, 0), t0()).is_some());
        assert!(!b.set_phone_property(&ids[1], "k", "v", t0()));
    }

    #[test]
    fn busy_phones_are_rejected_and_counted() {
        let b = backend(1);
        let phone = b.phone_ids()[0].clone();
        let answer = restart(&b, &[&phone, &phone], t0());
        let first = job_id(&answer, 0);
        assert!(answer.jobs[1].is_rejected());
        assert_eq!(
            answer.jobs[1].error_code.as_deref(),
            Some(SIM_PHONE_BUSY_CODE)
        );
        assert!(
            answer.jobs[1]
                .error_msg
                .as_deref()
                .unwrap()
                .contains(&first)
        );
        let later = restart(&b, &[&phone], t0() + STEP);
        assert!(!later.jobs[0].is_rejected());
        let stats = b.stats();
        assert_eq!(stats.submissions.get(&phone), Some(&2));
        assert_eq!(stats.rejected.get(&phone), Some(&1));
    }

    #[test]
    fn malformed_and_unknown_phone_ids_are_rejected_inside_the_answer() {
        let b = backend(1);
        let answer = restart(
            &b,
            &[
                "bad id",
                "ABCDEF0123456789ABCDEF0123456789",
                "ffffffffffffffffffffffffffffffff",
            ],
            t0(),
        );
        let codes: Vec<_> = answer
            .jobs
            .iter()
            .map(|j| j.error_code.as_deref())
            .collect();
        assert_eq!(
            codes,
            [Some("CPS.0004"), Some("CPS.0004"), Some("CPS.0005")]
        );
        assert_eq!(
            answer.jobs[0].error_msg.as_deref(),
            Some("Parameter: phone_id is invalid.")
        );
        assert_eq!(
            answer.jobs[2].error_msg.as_deref(),
            Some("Parameter: Phone not found.")
        );
        assert_eq!(answer.jobs[0].phone_id.as_deref(), Some("bad id"));
        // A number where the schema wants a string breaks the body's structure: refused whole.
        let numeric = try_submit(
            &b,
            BatchOperation::Stop,
            &json!({ "phone_ids": [42] }),
            "r",
            t0(),
        )
        .unwrap_err();
        assert_eq!(
            (numeric.http_status(), numeric.error_msg().as_str()),
            (
                400,
                "Parameter: /phone_ids/0 is invalid. Expected a value of type \"string\", found number."
            )
        );
        assert!(!b.stats().rejected.contains_key("42"));
    }

    #[test]
    fn property_updates_are_visible_after_the_job_and_checked_by_the_catalogue() {
        let b = backend(1);
        let phone = b.phone_ids()[0].clone();
        let property =
            json!({ "sys.prop.writephonenum": "13666666666", "vendor.new": "x" }).to_string();
        let answer = submit(
            &b,
            BatchOperation::UpdateProperty,
            json!({ "phones": [{ "phone_id": phone, "property": property }] }),
            t0(),
        );
        assert!(!answer.jobs[0].is_rejected());
        let before = b.phone(&phone, t0()).unwrap().properties().unwrap();
        assert_eq!(before.get("sys.prop.writephonenum"), None);
        let after = b.phone(&phone, t0() + STEP).unwrap().properties().unwrap();
        assert_eq!(after.get("sys.prop.writephonenum"), Some("13666666666"));
        assert_eq!(after.get("vendor.new"), Some("x"));

        let bad = json!({ "com.cph.mainkeys": "2" }).to_string();
        let answer = submit(
            &b,
            BatchOperation::UpdateProperty,
            json!({ "phones": [{ "phone_id": phone, "property": bad }] }),
            t0() + STEP,
        );
        assert_eq!(answer.jobs[0].error_code.as_deref(), Some("CPS.0004"));
        assert!(
            answer.jobs[0]
                .error_msg
                .as_deref()
                .unwrap()
                .contains("com.cph.mainkeys")
        );
        let unparsable = submit(
            &b,
            BatchOperation::UpdateProperty,
            json!({ "phones": [{ "phone_id": phone, "property": "{\"a\":\"1\",}" }] }),
            t0() + STEP,
        );
        assert_eq!(unparsable.jobs[0].error_code.as_deref(), Some("CPS.0004"));
    }

    #[test]
    fn factory_reset_wipes_properties_then_applies_the_new_ones() {
        let b = backend(1);
        let phone = b.phone_ids()[0].clone();
        assert!(b.set_phone_property(&phone, "sys.prop.writeimsi", "123", t0()));
        let property = json!({ "persist.sys.locale": "en-US" }).to_string();
        submit(
            &b,
            BatchOperation::Reset,
            json!({ "image_id": "img2", "phones": [{ "phone_id": phone, "property": property, "factory_reset_enabled": true }] }),
            t0(),
        );
        assert_eq!(status(&b, &phone, t0()), 3);
        let detail = b.phone(&phone, t0() + STEP).unwrap();
        assert_eq!(detail.summary.status.map(|s| s.code()), Some(2));
        assert_eq!(detail.summary.image_id.as_deref(), Some("img2"));
        let props = detail.properties().unwrap();
        assert_eq!(props.get("sys.prop.writeimsi"), None);
        assert_eq!(props.get("persist.sys.locale"), Some("en-US"));
    }

    #[test]
    fn restore_checks_bucket_and_path_and_needs_a_running_phone() {
        let b = backend(2);
        let ids = b.phone_ids();
        let info = |id: &str, bucket: &str, path: &str| json!({ "phone_id": id, "bucket_name": bucket, "object_path": path });
        let answer = submit(
            &b,
            BatchOperation::Restore,
            json!({ "restore_infos": [info(&ids[0], "My_Bucket", "a"), info(&ids[0], "bkt", ""), info(&ids[0], "bkt", "backups/p1.tar")] }),
            t0(),
        );
        assert!(
            answer.jobs[0]
                .error_msg
                .as_deref()
                .unwrap()
                .contains("bucket_name")
        );
        assert!(
            answer.jobs[1]
                .error_msg
                .as_deref()
                .unwrap()
                .contains("object_path")
        );
        assert!(!answer.jobs[2].is_rejected());
        submit(
            &b,
            BatchOperation::Stop,
            json!({ "phone_ids": [ids[1]] }),
            t0(),
        );
        let stopped = submit(
            &b,
            BatchOperation::Restore,
            json!({ "restore_infos": [info(&ids[1], "bkt", "x")] }),
            t0() + STEP,
        );
        assert_eq!(
            stopped.jobs[0].error_code.as_deref(),
            Some(SIM_PHONE_BUSY_CODE)
        );
        assert!(
            stopped.jobs[0]
                .error_msg
                .as_deref()
                .unwrap()
                .contains("stopped")
        );
        let export = submit(
            &b,
            BatchOperation::Storage,
            json!({ "storage_infos": [{ "phone_id": ids[0], "include_files": ["/data"], "bucket_name": "bkt", "object_path": "o" }] }),
            t0() + STEP,
        );
        assert!(!export.jobs[0].is_rejected(), "{export:?}");
    }

    #[test]
    fn exports_follow_the_path_rules_and_a_newer_backup_cannot_be_restored_onto_an_older_phone() {
        let b = backend(3);
        let ids = b.phone_ids();
        // Seed 1: the fixture's phones are AOSP 11, 12 and 10.
        let version = |i: usize| {
            b.phone(&ids[i], t0())
                .unwrap()
                .summary
                .image_version
                .unwrap()
        };
        assert_eq!(
            [version(0), version(1), version(2)],
            ["AOSP11", "AOSP12", "AOSP10"]
        );
        let export = |id: &str, include: Value, exclude: Value, path: &str| json!({ "phone_id": id, "include_files": include, "exclude_files": exclude, "bucket_name": "bkt", "object_path": path });
        let bad = submit(
            &b,
            BatchOperation::Storage,
            json!({ "storage_infos": [
                export(&ids[0], json!(["/sdcard"]), Value::Null, "a.tar"),
                export(&ids[0], json!(["/data/misc"]), Value::Null, "a.tar"),
                export(&ids[0], json!(["/data"]), json!(["/data/misc/wifi"]), "a.tar"),
                export(&ids[0], json!(["/data"]), Value::Null, "a b.tar"),
                export(&ids[0], json!([]), Value::Null, "a.tar"),
            ] }),
            t0(),
        );
        let messages: Vec<String> = bad
            .jobs
            .iter()
            .map(|j| j.error_msg.clone().unwrap_or_default())
            .collect();
        assert!(bad.jobs.iter().all(PhoneJob::is_rejected), "{messages:?}");
        assert!(messages[0].contains("include_files"), "{messages:?}");
        assert!(messages[1].contains("/data/system"), "{messages:?}");
        assert!(messages[2].contains("exclude_files"), "{messages:?}");
        assert!(messages[3].contains("object_path"), "{messages:?}");
        let good = submit(
            &b,
            BatchOperation::Storage,
            json!({ "storage_infos": [
                export(&ids[1], json!(["/data/media", "/data/app/*"]), Value::Null, "new.tar"),
                export(&ids[2], json!(["/data/misc", "/data/system", "/data/system_de"]), json!(["/data/app"]), "old.tar"),
            ] }),
            t0(),
        );
        assert!(good.jobs.iter().all(|j| !j.is_rejected()), "{good:?}");
        let restore = |object: &str| json!({ "phone_id": ids[0], "bucket_name": "bkt", "object_path": object });
        let later = t0() + STEP * 2;
        let newer = submit(
            &b,
            BatchOperation::Restore,
            json!({ "restore_infos": [restore("new.tar")] }),
            later,
        );
        let job = job_id(&newer, 0);
        let failed = b.job_outcome(&job, t0());
        assert_eq!(failed, Some(JobStatus::Failed));
        let shown = b.show_job(jid(&job), "r", later + STEP * 2).unwrap();
        assert_eq!(
            shown.job.error_code.as_deref(),
            Some(SIM_RESTORE_NEWER_VERSION)
        );
        assert!(
            shown.job.error_msg.as_deref().unwrap().contains("AOSP12"),
            "{shown:?}"
        );
        for (object, at) in [("old.tar", 4), ("never-exported.tar", 6)] {
            let ok = submit(
                &b,
                BatchOperation::Restore,
                json!({ "restore_infos": [restore(object)] }),
                t0() + STEP * at,
            );
            assert_eq!(
                b.job_outcome(&job_id(&ok, 0), t0()),
                Some(JobStatus::Success),
                "{object}"
            );
        }
    }

    #[test]
    fn list_jobs_pages_by_request_and_uses_empty_strings() {
        let b = backend(5);
        let ids = b.phone_ids();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let phones: Vec<Value> = refs[..3]
            .iter()
            .map(|id| json!({ "phone_id": id }))
            .collect();
        let first = submit_as(
            &b,
            BatchOperation::Restart,
            json!({ "phones": phones }),
            "ra",
            t0(),
        );
        submit_as(
            &b,
            BatchOperation::Stop,
            json!({ "phone_ids": refs[3..] }),
            "rb",
            t0(),
        );
        let page = |query: &[(&str, &str)]| -> Vec<String> {
            list(&b, query, t0()).unwrap()["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["phone_id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(page(&[("request_id", "ra")]), ids[..3]);
        assert_eq!(page(&[("request_ids", "ra,rb"), ("limit", "2")]), ids[..2]);
        assert_eq!(
            page(&[("request_ids", "ra,rb"), ("limit", "2"), ("offset", "2")]),
            ids[2..4]
        );
        assert_eq!(
            page(&[("request_ids", "ra,rb"), ("limit", "2"), ("offset", "4")]),
            ids[4..]
        );
        assert_eq!(
            page(&[("request_ids", "rb"), ("request_id", "ra")]),
            ids[3..]
        );
        assert!(page(&[("request_id", "unknown")]).is_empty());
        let running = list(&b, &[("request_id", "ra")], t0()).unwrap();
        let job = &running["jobs"][0];
        assert_eq!(job["status"], json!(1));
        assert_eq!(job["end_time"], json!(""));
        assert_eq!(job["error_code"], json!(""));
        assert_eq!(job["job_id"], json!(job_id(&first, 0)));
    }

    #[test]
    fn list_jobs_validates_its_parameters() {
        let b = backend(1);
        let too_many = (0..21)
            .map(|i| format!("r{i}"))
            .collect::<Vec<_>>()
            .join(",");
        for query in [
            vec![("request_ids", too_many.as_str())],
            vec![("limit", "0")],
            vec![("limit", "101")],
            vec![("offset", "-1")],
            vec![("limit", "ten")],
        ] {
            let err = list(&b, &query, t0()).unwrap_err();
            assert_eq!(
                (err.http_status(), err.error_code()),
                (400, "CPS.0004"),
                "{query:?}"
            );
        }
        let twenty = (0..20)
            .map(|i| format!("r{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(list(&b, &[("request_ids", &twenty), ("limit", "100")], t0()).is_ok());
    }

    #[test]
    fn list_cloud_phones_filters_pages_and_counts() {
        let b = backend(10);
        let ids = b.phone_ids();
        let query = |pairs: &[(&str, &str)]| {
            let query =
                ListPhonesQuery::from_pairs(pairs.iter().copied()).map_err(SimError::from_rule)?;
            b.list_cloud_phones(query, "r", t0())
        };
        let all = query(&[]).unwrap();
        assert_eq!(all.count, Some(10));
        assert_eq!(all.phones.len(), 10);
        let page = query(&[("offset", "8"), ("limit", "5")]).unwrap();
        assert_eq!(page.count, Some(10));
        assert_eq!(page.phones.len(), 2);
        assert_eq!(page.phones[0].phone_id.as_deref(), Some(ids[8].as_str()));
        let server = all.phones[0].server_id.clone().unwrap();
        let same_server = query(&[("server_id", &server)]).unwrap();
        assert_eq!(same_server.count, Some(PHONES_PER_SERVER as i64));
        assert_eq!(
            query(&[("phone_name", "sim-phone-0003")]).unwrap().count,
            Some(1)
        );
        restart(&b, &[&ids[0]], t0());
        let restarting = query(&[("status", "4")]).unwrap();
        assert_eq!(restarting.count, Some(1));
        assert_eq!(query(&[("type", "1")]).unwrap().count, Some(0));
        for bad in [("limit", "201"), ("limit", "0"), ("status", "x")] {
            assert_eq!(query(&[bad]).unwrap_err().http_status(), 400, "{bad:?}");
        }
        assert!(query(&[("limit", "200")]).is_ok());
    }

    #[test]
    fn show_detail_distinguishes_malformed_and_unknown_ids() {
        let b = backend(1);
        let id = |text: &str| PhoneId::new(text).unwrap();
        let err = b
            .show_cloud_phone_detail(id("nothex"), "r", t0())
            .unwrap_err();
        assert_eq!((err.http_status(), err.error_code()), (400, "CPS.0004"));
        let err = b
            .show_cloud_phone_detail(id(&"f".repeat(32)), "r", t0())
            .unwrap_err();
        assert_eq!((err.http_status(), err.error_code()), (404, "CPS.0005"));
        let phone = b.phone_ids()[0].clone();
        let detail = b.show_cloud_phone_detail(id(&phone), "r", t0()).unwrap();
        assert_eq!(detail.request_id.as_deref(), Some("r"));
        assert_eq!(detail.property.as_deref(), Some("{}"));
        let err = b
            .show_job(JobId::new("nope").unwrap(), "r", t0())
            .unwrap_err();
        assert_eq!(err.http_status(), 404);
    }

    #[test]
    fn same_seed_gives_the_same_ids_and_failures() {
        let faults = Faults {
            job_failure_rate: 0.5,
            ..Faults::default()
        };
        let run = || {
            let b = backend_with(8, faults.clone());
            let ids = b.phone_ids();
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let answer = restart(&b, &refs, t0());
            let outcomes: Vec<_> = answer
                .jobs
                .iter()
                .map(|j| b.job_outcome(j.job_id.as_deref().unwrap(), t0()))
                .collect();
            (ids, answer, outcomes)
        };
        let (ids_a, answer_a, outcomes_a) = run();
        let (ids_b, answer_b, outcomes_b) = run();
        assert_eq!(ids_a, ids_b);
        assert_eq!(answer_a, answer_b);
        assert_eq!(outcomes_a, outcomes_b);
        assert!(outcomes_a.contains(&Some(JobStatus::Failed)));
        assert!(outcomes_a.contains(&Some(JobStatus::Success)));
        let other = Backend::new(
            &SimConfig {
                phones: 8,
                seed: 2,
                ..SimConfig::default()
            },
            t0(),
        );
        assert_ne!(other.phone_ids(), ids_a);
    }

    #[test]
    fn faults_are_decided_and_counted_before_acting() {
        let b = backend(1);
        assert_eq!(
            b.decide_faults(),
            FaultDecision {
                delay: Duration::ZERO,
                error: None
            }
        );
        b.set_faults(Faults {
            throttle_rate: 1.0,
            latency_ms: 5,
            ..Faults::default()
        })
        .unwrap();
        let decision = b.decide_faults();
        assert_eq!(decision.error, Some(SimError::Throttled));
        assert_eq!(decision.delay, Duration::from_millis(5));
        b.set_faults(Faults {
            server_error_rate: 1.0,
            server_error_status: 500,
            ..Faults::default()
        })
        .unwrap();
        assert_eq!(
            b.decide_faults().error,
            Some(SimError::ServerError { status: 500 })
        );
        b.set_faults(Faults {
            server_error_rate: 1.0,
            ..Faults::default()
        })
        .unwrap();
        assert_eq!(
            b.decide_faults().error,
            Some(SimError::ServerError { status: 503 })
        );
        let stats = b.stats();
        assert_eq!(stats.faults_injected.get("429"), Some(&1));
        assert_eq!(stats.faults_injected.get("500"), Some(&1));
        assert_eq!(stats.faults_injected.get("503"), Some(&1));
        assert!(stats.submissions.is_empty());
        b.set_faults(Faults {
            latency_ms: 10,
            latency_jitter_ms: 5,
            ..Faults::default()
        })
        .unwrap();
        for _ in 0..20 {
            let delay = b.decide_faults().delay;
            assert!((Duration::from_millis(10)..=Duration::from_millis(15)).contains(&delay));
        }
        assert!(
            b.set_faults(Faults {
                job_failure_rate: -0.1,
                ..Faults::default()
            })
            .is_err()
        );
        b.reset_stats();
        assert!(b.stats().faults_injected.is_empty());
    }

    #[test]
    fn a_thousand_phone_batch_on_ten_thousand_phones_is_fast() {
        let config = SimConfig {
            phones: 10_000,
            job_duration: STEP,
            ..SimConfig::default()
        };
        let b = Backend::new(&config, t0());
        let ids = b.phone_ids();
        let phones: Vec<Value> = ids[..1000]
            .iter()
            .map(|id| json!({ "phone_id": id }))
            .collect();
        let started = std::time::Instant::now();
        let answer = submit_as(
            &b,
            BatchOperation::Restart,
            json!({ "phones": phones }),
            "big",
            t0(),
        );
        assert!(answer.jobs.iter().all(|j| !j.is_rejected()));
        for offset in (0..1000).step_by(100) {
            let page = list(
                &b,
                &[("request_id", "big"), ("offset", &offset.to_string())],
                t0() + STEP,
            )
            .unwrap();
            assert_eq!(page["jobs"].as_array().unwrap().len(), 100);
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    fn decisions(b: &Backend, n: usize) -> Vec<Option<ActedFault>> {
        (0..n).map(|_| b.decide_acted_fault()).collect()
    }

    #[test]
    fn acted_faults_are_drawn_from_the_seeded_fault_generator_and_counted() {
        let faults = Faults {
            acted_error_rate: 0.3,
            acted_drop_rate: 0.5,
            ..Faults::default()
        };
        let a = decisions(&backend_with(1, faults.clone()), 200);
        let b = backend_with(1, faults.clone());
        assert_eq!(decisions(&b, 200), a, "the same seed draws the same faults");
        let errors = a.iter().filter(|d| **d == Some(ActedFault::Error)).count();
        let drops = a.iter().filter(|d| **d == Some(ActedFault::Drop)).count();
        assert!(errors > 0 && drops > 0 && errors + drops < 200, "{a:?}");
        let stats = b.stats();
        assert_eq!(
            stats.faults_injected.get("acted_500"),
            Some(&(errors as u64))
        );
        assert_eq!(
            stats.faults_injected.get("acted_drop"),
            Some(&(drops as u64))
        );
        assert_eq!(stats.faults_injected.len(), 2, "{stats:?}");
        let other = Backend::new(
            &SimConfig {
                phones: 1,
                seed: 2,
                faults,
                ..SimConfig::default()
            },
            t0(),
        );
        assert_ne!(decisions(&other, 200), a, "another seed draws other faults");

        let always_error = backend_with(
            1,
            Faults {
                acted_error_rate: 1.0,
                acted_drop_rate: 1.0,
                ..Faults::default()
            },
        );
        assert!(
            decisions(&always_error, 20)
                .iter()
                .all(|d| *d == Some(ActedFault::Error))
        );
        let always_drop = backend_with(
            1,
            Faults {
                acted_drop_rate: 1.0,
                ..Faults::default()
            },
        );
        assert!(
            decisions(&always_drop, 20)
                .iter()
                .all(|d| *d == Some(ActedFault::Drop))
        );
        // acted faults are never answered before the service acts
        assert_eq!(always_error.decide_faults().error, None);
        let none = backend(1);
        assert!(decisions(&none, 20).iter().all(Option::is_none));
        assert!(none.stats().faults_injected.is_empty());
    }

    #[test]
    fn zero_acted_rates_leave_the_seeded_fault_sequence_unchanged() {
        let faults = Faults {
            throttle_rate: 0.5,
            ..Faults::default()
        };
        let alone = backend_with(1, faults.clone());
        let interleaved = backend_with(1, faults);
        for _ in 0..100 {
            let expected = alone.decide_faults();
            assert_eq!(interleaved.decide_acted_fault(), None);
            assert_eq!(interleaved.decide_faults(), expected);
        }
    }

    fn backend_retaining(phones: usize, retention: Duration) -> Backend {
        let config = SimConfig {
            phones,
            job_duration: STEP,
            job_retention: retention,
            ..SimConfig::default()
        };
        Backend::new(&config, t0())
    }

    fn listed_job_ids(b: &Backend, query: &[(&str, &str)], at: SystemTime) -> Vec<String> {
        list(b, query, at).unwrap()["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["job_id"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn jobs_are_forgotten_once_they_ended_longer_ago_than_the_retention() {
        let retention = Duration::from_secs(60);
        let b = backend_retaining(2, retention);
        let ids = b.phone_ids();
        let property = json!({ "persist.sys.locale": "en-US" }).to_string();
        let body = json!({ "phones": [{ "phone_id": ids[0], "property": property }] });
        let old = submit_as(&b, BatchOperation::UpdateProperty, body, "old", t0());
        let later = t0() + Duration::from_secs(30);
        let new = submit_as(
            &b,
            BatchOperation::Restart,
            json!({ "phones": [{ "phone_id": ids[1] }] }),
            "new",
            later,
        );
        let (old_job, new_job) = (job_id(&old, 0), job_id(&new, 0));

        // Ended exactly `retention` ago: still known everywhere.
        let boundary = t0() + STEP + retention;
        assert_eq!(
            b.show_job(jid(&old_job), "r", boundary).unwrap().job.status,
            JobStatus::Success
        );
        assert_eq!(
            listed_job_ids(&b, &[("request_id", "old")], boundary),
            [old_job.as_str()]
        );
        assert_eq!(
            listed_job_ids(&b, &[], boundary),
            [old_job.as_str(), new_job.as_str()]
        );
        assert_eq!(b.job_status(&old_job, boundary), Some(JobStatus::Success));

        // One nanosecond later: forgotten by ShowJob, ListJobs and its request.
        let past = boundary + Duration::from_nanos(1);
        let err = b.show_job(jid(&old_job), "r", past).unwrap_err();
        assert_eq!(
            err,
            SimError::JobNotFound {
                job_id: old_job.clone()
            }
        );
        assert_eq!((err.http_status(), err.error_code()), (404, "CPS.0005"));
        assert!(listed_job_ids(&b, &[("request_id", "old")], past).is_empty());
        assert_eq!(
            listed_job_ids(&b, &[("request_ids", "old,new")], past),
            [new_job.as_str()]
        );
        assert_eq!(listed_job_ids(&b, &[], past), [new_job.as_str()]);
        assert_eq!(b.job_status(&old_job, past), None);
        assert_eq!(b.job_outcome(&old_job, past), None);
        // Its effect on the phone stays, and the phone takes new jobs.
        let detail = b.phone(&ids[0], past).unwrap();
        assert_eq!(
            detail.properties().unwrap().get("persist.sys.locale"),
            Some("en-US")
        );
        assert_eq!(detail.summary.status.map(|s| s.code()), Some(2));
        assert!(!restart(&b, &[&ids[0]], past).jobs[0].is_rejected());

        // The later job has its own boundary.
        let new_boundary = later + STEP + retention;
        assert!(b.show_job(jid(&new_job), "r", new_boundary).is_ok());
        let gone = new_boundary + Duration::from_nanos(1);
        assert!(b.show_job(jid(&new_job), "r", gone).is_err());
        assert!(listed_job_ids(&b, &[("request_id", "new")], gone).is_empty());
        assert_eq!(status(&b, &ids[1], gone), 2);
    }

    #[test]
    fn unfinished_jobs_are_never_forgotten_and_a_huge_retention_keeps_jobs_forever() {
        let b = backend_retaining(1, Duration::ZERO);
        let phone = b.phone_ids()[0].clone();
        let job = job_id(&restart(&b, &[&phone], t0()), 0);
        assert_eq!(
            b.job_status(&job, t0() + STEP / 2),
            Some(JobStatus::Running)
        );
        assert_eq!(status(&b, &phone, t0() + STEP / 2), 4);
        assert_eq!(b.job_status(&job, t0() + STEP), Some(JobStatus::Success));
        assert_eq!(
            b.job_status(&job, t0() + STEP + Duration::from_nanos(1)),
            None
        );

        let forever = backend_retaining(1, Duration::MAX);
        let phone = forever.phone_ids()[0].clone();
        let job = job_id(&restart(&forever, &[&phone], t0()), 0);
        let much_later = t0() + Duration::from_secs(100 * 365 * 24 * 3600);
        assert!(forever.show_job(jid(&job), "r", much_later).is_ok());
    }

    fn connect(b: &Backend, ids: &[&str], at: SystemTime) -> ConnectionResponse {
        let body = json!({ "phone_ids": ids, "client_type": "ANDROID" }).to_string();
        let ask = ConnectionAsk::decode(&Input {
            params: &[],
            query: "",
            body: body.as_bytes(),
        })
        .unwrap();
        b.batch_show_phone_connect_infos(ask, "rc", at).unwrap()
    }

    #[test]
    fn running_phones_get_fresh_access_per_call_and_others_an_error() {
        let b = backend(3);
        let ids = b.phone_ids();
        submit(
            &b,
            BatchOperation::Stop,
            json!({ "phone_ids": [ids[2]] }),
            t0(),
        );
        let unknown = "f".repeat(32);
        let answer = connect(
            &b,
            &[&ids[0], &ids[1], &ids[2], &unknown, "phone-1", "a b"],
            t0(),
        );
        assert_eq!(answer.request_id.as_deref(), Some("rc"));
        let connected: Vec<&str> = answer
            .connect_infos
            .iter()
            .map(|c| c.phone_id.as_deref().unwrap())
            .collect();
        assert_eq!(connected, [ids[0].as_str(), ids[1].as_str()]);
        let errors: Vec<(&str, &str)> = answer
            .errors
            .iter()
            .map(|e| {
                (
                    e.phone_id.as_deref().unwrap(),
                    e.error_code.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            errors,
            [
                (ids[2].as_str(), SIM_PHONE_BUSY_CODE),
                (unknown.as_str(), "CPS.0005"),
                ("phone-1", "CPS.0004"),
                ("a b", "CPS.0004"),
            ]
        );
        let access = answer.connect_infos[1].access_info.clone().unwrap();
        assert_eq!(access.intranet_ip.as_deref(), Some("10.0.1.11"));
        assert_eq!(access.access_port, Some(20001));
        assert_eq!(access.timestamp.as_deref(), Some("1700000000000"));
        let ticket = access.ticket.clone().unwrap();
        assert_eq!(ticket.expose().len(), 64);
        assert!(!format!("{answer:?}").contains(ticket.expose()));
        let again = connect(&b, &[&ids[1]], t0() + STEP);
        let second = again.connect_infos[0].access_info.clone().unwrap();
        assert_ne!(second.ticket, access.ticket, "a new ticket per call");
        assert_ne!(second.session_id, access.session_id);
        assert_eq!(second.timestamp.as_deref(), Some("1700000000100"));
        let stats = b.stats();
        assert_eq!(stats.submissions.len(), 1, "only the stop acted on a phone");
        assert!(stats.rejected.is_empty(), "{stats:?}");
    }

    /// The phone id, session id and ticket of the `i`th connect info of `answer`.
    fn presented(answer: &ConnectionResponse, i: usize) -> (String, String, String) {
        let info = &answer.connect_infos[i];
        let access = info.access_info.as_ref().unwrap();
        (
            info.phone_id.clone().unwrap(),
            access.session_id.as_ref().unwrap().expose().to_owned(),
            access.ticket.as_ref().unwrap().expose().to_owned(),
        )
    }

    #[test]
    fn a_ticket_connects_its_phone_and_session_any_number_of_times_until_it_expires() {
        let b = backend(2);
        let ids = b.phone_ids();
        // Issued between two milliseconds: `timestamp` shows the earlier one, and the expiry a
        // client computes from it is the one enforced.
        let issued = t0() + Duration::from_micros(1500);
        let answer = connect(&b, &[&ids[0], &ids[1]], issued);
        let (phone, session, ticket) = presented(&answer, 0);
        let access = answer.connect_infos[0].access_info.clone().unwrap();
        let expiry = access.expires_at().unwrap();
        assert_eq!(
            expiry,
            t0() + Duration::from_millis(1) + cph_types::TICKET_LIFETIME
        );

        assert_eq!(b.connect(&phone, &session, &ticket, issued), Ok(()));
        let last = expiry - Duration::from_nanos(1);
        assert_eq!(b.connect(&phone, &session, &ticket, last), Ok(()));
        assert!(b.ticket_is_valid(&phone, &ticket, last));
        assert_eq!(b.stats().connections_accepted, 2, "each use counts");

        assert_eq!(
            b.connect(&phone, &session, &ticket, expiry),
            Err(Refusal::Expired)
        );
        assert!(!b.ticket_is_valid(&phone, &ticket, expiry));
        assert_eq!(Refusal::Expired.to_string(), "ticket expired");
        assert_eq!(b.stats().connections_accepted, 2, "refusals do not count");
    }

    #[test]
    fn a_valid_ticket_of_a_phone_stopped_since_is_refused_as_not_running() {
        let b = backend(2);
        let ids = b.phone_ids();
        let answer = connect(&b, &[&ids[0]], t0());
        let (phone, session, ticket) = presented(&answer, 0);
        assert_eq!(b.connect(&phone, &session, &ticket, t0()), Ok(()));
        submit(
            &b,
            BatchOperation::Stop,
            json!({ "phone_ids": [ids[0]] }),
            t0(),
        );
        assert_eq!(
            b.connect(&phone, &session, &ticket, t0() + STEP),
            Err(Refusal::NotRunning)
        );
        assert_eq!(Refusal::NotRunning.to_string(), "phone not running");
        assert_eq!(b.stats().connections_accepted, 1);
        // Started again (its job finished by then): the same ticket, still valid, connects.
        restart(&b, &[&ids[0]], t0() + 2 * STEP);
        assert_eq!(
            b.connect(&phone, &session, &ticket, t0() + 4 * STEP),
            Ok(())
        );
        assert_eq!(b.stats().connections_accepted, 2);
    }

    #[test]
    fn a_ticket_is_refused_for_another_phone_or_session_and_unknown_tickets_are_refused() {
        let b = backend(2);
        let ids = b.phone_ids();
        let answer = connect(&b, &[&ids[0], &ids[1]], t0());
        let (phone, session, ticket) = presented(&answer, 0);
        let (other_phone, other_session, other_ticket) = presented(&answer, 1);
        assert_eq!(
            b.connect(&other_phone, &session, &ticket, t0()),
            Err(Refusal::OtherPhone)
        );
        assert!(!b.ticket_is_valid(&other_phone, &ticket, t0()));
        assert_eq!(
            b.connect(&phone, &other_session, &ticket, t0()),
            Err(Refusal::OtherSession)
        );
        assert_eq!(
            Refusal::OtherPhone.to_string(),
            "ticket issued for another phone"
        );
        assert_eq!(
            Refusal::OtherSession.to_string(),
            "ticket issued for another session"
        );
        for unknown in ["", "0".repeat(64).as_str(), &ticket[..63], &session] {
            assert_eq!(
                b.connect(&phone, &session, unknown, t0()),
                Err(Refusal::Unknown),
                "{unknown}"
            );
        }
        assert_eq!(Refusal::Unknown.to_string(), "unknown ticket");
        assert_eq!(b.stats().connections_accepted, 0);
        // A later call issues other tickets and leaves the earlier ones valid.
        let again = connect(&b, &[&ids[1]], t0() + STEP);
        let (_, newer_session, newer_ticket) = presented(&again, 0);
        assert_ne!(newer_ticket, other_ticket);
        assert_eq!(
            b.connect(&other_phone, &newer_session, &newer_ticket, t0() + STEP),
            Ok(())
        );
        assert_eq!(
            b.connect(&other_phone, &other_session, &other_ticket, t0() + STEP),
            Ok(())
        );
    }

    #[test]
    fn capped_property_strings_are_the_longest_fitting_key_order_prefix() {
        let small: PropertyMap = [("a", "1"), ("b", "2")].into_iter().collect();
        let whole = small.to_api_string().as_str().to_owned();
        assert_eq!(whole, r#"{"a":"1","b":"2"}"#);
        assert_eq!(
            capped_property_string(&small, DETAIL_PROPERTY_BYTES_MAX),
            whole
        );
        assert_eq!(capped_property_string(&small, whole.len()), whole);
        assert_eq!(
            capped_property_string(&small, whole.len() - 1),
            r#"{"a":"1"}"#
        );
        assert_eq!(capped_property_string(&small, 9), r#"{"a":"1"}"#);
        assert_eq!(capped_property_string(&small, 8), "{}");
        assert_eq!(capped_property_string(&PropertyMap::new(), 2), "{}");

        // Escapes and multi-byte characters count as the bytes they encode to.
        let tricky: PropertyMap = [
            ("k1", "say \"hi\"\n"),
            ("k2", "日本語"),
            ("k3", "x"),
            ("k4", "\\"),
        ]
        .into_iter()
        .collect();
        let entries: Vec<(&str, &str)> = tricky.iter().collect();
        let full = tricky.to_api_string().byte_len();
        for max in 2..=full + 1 {
            let text = capped_property_string(&tricky, max);
            assert!(text.len() <= max, "{max}: {text}");
            let shown = PropertyMap::from_api_string(&text).unwrap();
            let n = shown.len();
            let prefix: PropertyMap = entries[..n].iter().copied().collect();
            assert_eq!(shown, prefix, "{max}: a key-order prefix");
            assert_eq!(text, prefix.to_api_string().as_str(), "{max}");
            if n < entries.len() {
                let one_more: PropertyMap = entries[..=n].iter().copied().collect();
                assert!(
                    one_more.to_api_string().byte_len() > max,
                    "{max}: longest prefix"
                );
            }
        }
    }

    #[test]
    fn show_detail_caps_property_at_2048_bytes_and_the_admin_view_stays_whole() {
        let b = backend(1);
        let phone = b.phone_ids()[0].clone();
        // 60 entries of about 100 bytes: about 6 KB, within UpdateCloudPhoneProperty's 7800.
        let properties: PropertyMap = (0..60)
            .map(|i| (format!("vendor.sim.key{i:02}"), "v".repeat(80)))
            .collect();
        let property = properties.to_api_string().as_str().to_owned();
        assert!(property.len() > 2 * DETAIL_PROPERTY_BYTES_MAX && property.len() < 7800);
        let answer = submit(
            &b,
            BatchOperation::UpdateProperty,
            json!({ "phones": [{ "phone_id": phone, "property": property }] }),
            t0(),
        );
        assert!(!answer.jobs[0].is_rejected(), "{answer:?}");
        let at = t0() + STEP;
        let shown = b
            .show_cloud_phone_detail(PhoneId::new(phone.clone()).unwrap(), "r", at)
            .unwrap()
            .property
            .unwrap();
        assert!(shown.len() <= DETAIL_PROPERTY_BYTES_MAX, "{}", shown.len());
        let shown_map = PropertyMap::from_api_string(&shown).unwrap();
        let entries: Vec<(&str, &str)> = properties.iter().collect();
        let n = shown_map.len();
        assert!(n > 0 && n < entries.len(), "{n}");
        let prefix: PropertyMap = entries[..n].iter().copied().collect();
        assert_eq!(shown_map, prefix);
        let one_more: PropertyMap = entries[..=n].iter().copied().collect();
        assert!(one_more.to_api_string().byte_len() > DETAIL_PROPERTY_BYTES_MAX);
        // The admin view and the in-process control show every property.
        let admin = b.phones(at);
        assert_eq!(admin[0].property.as_deref(), Some(property.as_str()));
        assert_eq!(
            b.phone(&phone, at).unwrap().properties().unwrap(),
            properties
        );
    }
}
