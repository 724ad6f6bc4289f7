//! The submission journal: what the provider sent, written down before each batch request goes out
//! and completed with its request and job ids once answered, so that an apply after a crash (of
//! Terraform or of the provider), or after Ctrl-C and the replacement of a tainted resource, finds
//! the submissions state does not hold and waits on them instead of acting on a phone twice for one
//! intent.
//!
//! An *intent* is a phone, the operation, and everything that decides what is done to the phone:
//! its own inputs and the resource's `triggers`, `image_id` and declared state. A changed intent is
//! a new one and acts again.
//!
//! The journal lives in Terraform's data directory (`TF_DATA_DIR`, by default `.terraform/` in the
//! working directory Terraform runs in), under `cph-journal/`, one small JSON file per batch
//! request, each written to a temporary file, flushed and renamed into place. An entry leaves once a
//! plan sees its request id in the resource's state (state holds the outcome), when a newer
//! submission of the same phone replaces it, or after [`KEEP_FOR`].

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cph_http::{RunningJob, UnsurePhone};
use cph_types::{JobId, PhoneId, RequestId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long an entry is kept when nothing else removes it.
pub(crate) const KEEP_FOR: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The version of the entry format; entries of another version are ignored (and pruned by age).
const FORMAT: u32 = 1;

/// The fingerprint of one intent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Intent(String);

impl Intent {
    /// The intent of doing `operation` of resource type `type_name` to `phone` with `inputs` (the
    /// phone's own) and `shared` (the resource's `triggers`, `image_id`, declared state...): any
    /// stable rendering of them, hashed.
    pub(crate) fn of(
        type_name: &str,
        operation: &str,
        phone: &PhoneId,
        inputs: &str,
        shared: &str,
    ) -> Intent {
        let mut digest = Sha256::new();
        for part in [type_name, operation, phone.as_str(), inputs, shared] {
            digest.update(part.len().to_le_bytes());
            digest.update(part.as_bytes());
        }
        Intent(hex::encode(&digest.finalize()[..16]))
    }
}

/// One phone of a journalled submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PhoneEntry {
    phone_id: PhoneId,
    intent: Intent,
    /// Its job, once the answer gave one.
    #[serde(default)]
    job_id: Option<JobId>,
    /// Whether the answer came (with a job or a rejection).
    #[serde(default)]
    answered: bool,
}

/// One batch request as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    format: u32,
    type_name: String,
    operation: String,
    /// Seconds since the epoch when it was written first.
    created: u64,
    /// The request's id, once answered.
    #[serde(default)]
    request_id: Option<RequestId>,
    phones: Vec<PhoneEntry>,
}

/// What became of one phone of a journalled request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The service gave it a job.
    Job(JobId),
    /// Nothing was done to it: refused by the service, or certainly not sent.
    Refused,
    /// The request failed in a way that leaves open whether the service acted.
    Unsure,
}

/// What the journal says of a phone that is about to be submitted for an intent state does not
/// record as done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Earlier {
    /// Its earlier submission got a job: wait on it instead of submitting again.
    Job(RunningJob),
    /// Its earlier submission went out, or may have, with no answer recorded: read the service
    /// before sending it again.
    Unsure(UnsurePhone),
}

/// A submission written down before it goes out; [`Journal::answered`] completes it.
#[derive(Debug)]
pub(crate) struct Pending {
    path: PathBuf,
    entry: Entry,
}

/// The journal of one provider process (every resource shares it).
#[derive(Debug)]
pub(crate) struct Journal {
    dir: PathBuf,
    /// Serialises this process's writes (separate files never collide; pruning and rewriting do).
    lock: Mutex<()>,
}

/// The journal's directory for a provider started in `cwd` with `TF_DATA_DIR` = `data_dir`.
pub(crate) fn default_dir(data_dir: Option<&str>, cwd: &Path) -> PathBuf {
    let data = data_dir.filter(|d| !d.is_empty()).unwrap_or(".terraform");
    cwd.join(data).join("cph-journal")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A file name no other submission of any process takes.
fn unique_name(type_name: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut name = String::new();
    let _ = write!(
        name,
        "{type_name}-{nanos}-{}-{}.json",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    name
}

/// Writes `bytes` to `path` durably: a temporary file, flushed, renamed into place, the directory
/// flushed.
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

impl Journal {
    /// The journal in `dir`, created when missing.
    pub(crate) fn open(dir: PathBuf) -> std::io::Result<Journal> {
        std::fs::create_dir_all(&dir)?;
        Ok(Journal {
            dir,
            lock: Mutex::new(()),
        })
    }

    /// Where it lives.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every entry on disk with its path; unreadable files are skipped (a torn write never lands:
    /// files are renamed into place whole).
    fn entries(&self) -> Vec<(PathBuf, Entry)> {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        dir.filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| {
                let bytes = std::fs::read(&p).ok()?;
                let entry: Entry = serde_json::from_slice(&bytes).ok()?;
                Some((p, entry))
            })
            .collect()
    }

    /// Writes down, durably, that `phones` (with their intents) are about to be sent in one request
    /// of `operation`, and drops what older entries say of the same phones of this resource type.
    pub(crate) fn sending(
        &self,
        type_name: &str,
        operation: &str,
        phones: &[(PhoneId, Intent)],
    ) -> std::io::Result<Pending> {
        let _guard = self.guard();
        let ids: HashSet<&PhoneId> = phones.iter().map(|(id, _)| id).collect();
        self.rewrite(|entry| {
            entry.type_name == type_name && {
                entry.phones.retain(|p| !ids.contains(&p.phone_id));
                true
            }
        })?;
        let entry = Entry {
            format: FORMAT,
            type_name: type_name.to_owned(),
            operation: operation.to_owned(),
            created: now_secs(),
            request_id: None,
            phones: phones
                .iter()
                .map(|(phone_id, intent)| PhoneEntry {
                    phone_id: phone_id.clone(),
                    intent: intent.clone(),
                    job_id: None,
                    answered: false,
                })
                .collect(),
        };
        let path = self.dir.join(unique_name(type_name));
        write_durably(
            &path,
            &serde_json::to_vec(&entry).map_err(std::io::Error::other)?,
        )?;
        Ok(Pending { path, entry })
    }

    /// Completes `pending` with the request's answer: its id and what became of each phone (a
    /// phone it does not name stays unsure).
    pub(crate) fn answered(
        &self,
        mut pending: Pending,
        request_id: Option<&RequestId>,
        answers: &HashMap<&PhoneId, Answer>,
    ) -> std::io::Result<()> {
        let _guard = self.guard();
        pending.entry.request_id = request_id.cloned();
        for phone in &mut pending.entry.phones {
            match answers.get(&phone.phone_id) {
                Some(Answer::Job(job)) => {
                    phone.answered = true;
                    phone.job_id = Some(job.clone());
                }
                Some(Answer::Refused) => phone.answered = true,
                Some(Answer::Unsure) | None => {}
            }
        }
        // A newer submission of these phones may have pruned the file meanwhile: only phones
        // still listed keep their place.
        if let Ok(bytes) = std::fs::read(&pending.path) {
            if let Ok(current) = serde_json::from_slice::<Entry>(&bytes) {
                let listed: HashSet<&PhoneId> =
                    current.phones.iter().map(|p| &p.phone_id).collect();
                pending
                    .entry
                    .phones
                    .retain(|p| listed.contains(&p.phone_id));
            }
        }
        write_durably(
            &pending.path,
            &serde_json::to_vec(&pending.entry).map_err(std::io::Error::other)?,
        )
    }

    /// What the journal says of `phones` (each with the intent it is about to be submitted for)
    /// of `type_name`'s `operation` that `recorded` (each phone's request id in state) does not
    /// explain: a submission for the same intent in a request state does not hold.
    pub(crate) fn earlier(
        &self,
        type_name: &str,
        operation: &str,
        phones: &[(PhoneId, Intent)],
        recorded: &HashMap<&str, &RequestId>,
    ) -> HashMap<PhoneId, Earlier> {
        let wanted: HashMap<&PhoneId, &Intent> = phones.iter().map(|(p, i)| (p, i)).collect();
        let mut found: HashMap<PhoneId, (u64, Earlier)> = HashMap::new();
        for (_, entry) in self.entries() {
            if entry.format != FORMAT
                || entry.type_name != type_name
                || entry.operation != operation
            {
                continue;
            }
            for phone in &entry.phones {
                if wanted.get(&phone.phone_id) != Some(&&phone.intent) {
                    continue;
                }
                let explained = match (&entry.request_id, recorded.get(phone.phone_id.as_str())) {
                    (Some(sent), Some(held)) => sent == *held,
                    _ => false,
                };
                let earlier = match (&phone.job_id, phone.answered) {
                    _ if explained => continue,
                    (Some(job), _) => Earlier::Job(RunningJob {
                        phone_id: phone.phone_id.clone(),
                        request_id: entry.request_id.clone(),
                        job_id: job.clone(),
                    }),
                    // Answered with no job: refused, nothing was done; sending again is safe.
                    (None, true) => continue,
                    (None, false) => Earlier::Unsure(UnsurePhone {
                        phone_id: phone.phone_id.clone(),
                        request_id: entry.request_id.clone(),
                    }),
                };
                let newer = found
                    .get(&phone.phone_id)
                    .is_none_or(|(created, _)| entry.created >= *created);
                if newer {
                    found.insert(phone.phone_id.clone(), (entry.created, earlier));
                }
            }
        }
        found.into_iter().map(|(id, (_, e))| (id, e)).collect()
    }

    /// Drops what state now holds: the phones of `type_name` recorded in state with the request id
    /// the journal has for them, and every entry older than [`KEEP_FOR`].
    pub(crate) fn prune(
        &self,
        type_name: &str,
        recorded: &HashMap<&str, &RequestId>,
    ) -> std::io::Result<()> {
        let _guard = self.guard();
        let oldest = now_secs().saturating_sub(KEEP_FOR.as_secs());
        self.rewrite(|entry| {
            if entry.created < oldest {
                entry.phones.clear();
                return true;
            }
            if entry.type_name != type_name {
                return false;
            }
            let Some(request) = &entry.request_id else {
                return false;
            };
            let before = entry.phones.len();
            entry
                .phones
                .retain(|p| recorded.get(p.phone_id.as_str()) != Some(&request));
            entry.phones.len() != before
        })
    }

    /// Applies `change` to every entry; writes back those it changed (it returns true), deleting
    /// those left with no phone.
    fn rewrite(&self, mut change: impl FnMut(&mut Entry) -> bool) -> std::io::Result<()> {
        for (path, mut entry) in self.entries() {
            let before = entry.clone();
            if !change(&mut entry) || entry == before {
                continue;
            }
            if entry.phones.is_empty() {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            } else {
                write_durably(
                    &path,
                    &serde_json::to_vec(&entry).map_err(std::io::Error::other)?,
                )?;
            }
        }
        Ok(())
    }
}

/// The log of one run of one operation of a resource: each batch request's phones written to the
/// journal, with their intents, before it goes out ([`cph_http::SubmissionLog`]).
#[derive(Debug)]
pub(crate) struct RunLog {
    journal: Arc<Journal>,
    type_name: &'static str,
    intents: HashMap<PhoneId, Intent>,
}

impl RunLog {
    pub(crate) fn new(
        journal: Arc<Journal>,
        type_name: &'static str,
        intents: HashMap<PhoneId, Intent>,
    ) -> Arc<RunLog> {
        Arc::new(RunLog {
            journal,
            type_name,
            intents,
        })
    }
}

impl cph_http::SubmissionLog for RunLog {
    fn sending(
        &self,
        operation: cph_types::BatchOperation,
        phones: &[PhoneId],
    ) -> Result<Box<dyn cph_http::LoggedRequest>, String> {
        let phones: Vec<(PhoneId, Intent)> = phones
            .iter()
            .filter_map(|p| Some((p.clone(), self.intents.get(p)?.clone())))
            .collect();
        let pending = self
            .journal
            .sending(self.type_name, operation.api_name(), &phones)
            .map_err(|e| {
                format!(
                    "the submission journal in {} cannot be written ({e}); make the directory writable, or set \
                     `journal_dir` (CPH_JOURNAL_DIR) to one that is",
                    self.journal.dir().display()
                )
            })?;
        Ok(Box::new(PendingLog {
            journal: Arc::clone(&self.journal),
            pending,
        }))
    }
}

/// A journalled request waiting for its answer.
struct PendingLog {
    journal: Arc<Journal>,
    pending: Pending,
}

impl cph_http::LoggedRequest for PendingLog {
    fn answered(self: Box<Self>, phones: &[cph_http::SubmittedPhone]) {
        use cph_http::SubmitResult;
        let request_id = phones.iter().find_map(|p| p.request_id.as_ref());
        let answers: HashMap<&PhoneId, Answer> = phones
            .iter()
            .map(|p| {
                let answer = match &p.result {
                    SubmitResult::Accepted { job_id } => Answer::Job(job_id.clone()),
                    SubmitResult::Unknown { .. } => Answer::Unsure,
                    _ => Answer::Refused,
                };
                (&p.phone_id, answer)
            })
            .collect();
        if let Err(e) = self.journal.answered(self.pending, request_id, &answers) {
            // The request went out: an answer that cannot be written leaves its entry unsure, which
            // the next apply reads the service about before sending anything again.
            tracing::warn!(error = %e, "the submission journal could not record an answer");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> PhoneId {
        PhoneId::new(s).unwrap()
    }

    fn journal() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("cph-journal")).unwrap();
        (dir, journal)
    }

    fn intent(phone: &str, inputs: &str) -> Intent {
        Intent::of("cph_phone_restart", "restart", &id(phone), inputs, "")
    }

    #[test]
    fn a_submission_answered_with_jobs_is_found_until_state_holds_its_request() {
        let (_dir, j) = journal();
        let phones = [(id("a"), intent("a", "x")), (id("b"), intent("b", "x"))];
        let pending = j.sending("cph_phone_restart", "restart", &phones).unwrap();
        let request = RequestId::new("r1").unwrap();
        let job = JobId::new("j1").unwrap();
        let (a, b) = (id("a"), id("b"));
        j.answered(
            pending,
            Some(&request),
            &HashMap::from([(&a, Answer::Job(job.clone())), (&b, Answer::Refused)]),
        )
        .unwrap();
        let found = j.earlier("cph_phone_restart", "restart", &phones, &HashMap::new());
        assert_eq!(
            found.get(&id("a")),
            Some(&Earlier::Job(RunningJob {
                phone_id: id("a"),
                request_id: Some(request.clone()),
                job_id: job.clone(),
            }))
        );
        assert_eq!(
            found.get(&id("b")),
            None,
            "b was refused: safe to send again"
        );
        // Another intent (new triggers, other inputs) is not the same submission.
        let other = [(id("a"), intent("a", "y"))];
        assert!(
            j.earlier("cph_phone_restart", "restart", &other, &HashMap::new())
                .is_empty()
        );
        // Once state holds the request, the journal explains nothing more, and prunes it.
        let recorded = HashMap::from([("a", &request), ("b", &request)]);
        assert!(
            j.earlier("cph_phone_restart", "restart", &phones, &recorded)
                .is_empty()
        );
        j.prune("cph_phone_restart", &recorded).unwrap();
        assert!(j.entries().is_empty(), "{:?}", j.entries());
    }

    #[test]
    fn a_submission_never_answered_is_unsure_and_survives_a_new_process() {
        let (dir, j) = journal();
        let phones = [(id("a"), intent("a", "x"))];
        let _pending = j.sending("cph_phone_restart", "restart", &phones).unwrap();
        drop(j);
        // The process died with the request out: a new one reads what the first wrote.
        let again = Journal::open(dir.path().join("cph-journal")).unwrap();
        let found = again.earlier("cph_phone_restart", "restart", &phones, &HashMap::new());
        assert_eq!(
            found.get(&id("a")),
            Some(&Earlier::Unsure(UnsurePhone {
                phone_id: id("a"),
                request_id: None
            }))
        );
        // Another type's journal says nothing of it.
        assert!(
            again
                .earlier("cph_phone_reset", "restart", &phones, &HashMap::new())
                .is_empty()
        );
    }

    #[test]
    fn a_newer_submission_of_a_phone_replaces_what_older_ones_said() {
        let (_dir, j) = journal();
        let old = [(id("a"), intent("a", "x")), (id("b"), intent("b", "x"))];
        let pending = j.sending("cph_phone_restart", "restart", &old).unwrap();
        j.answered(
            pending,
            Some(&RequestId::new("r1").unwrap()),
            &HashMap::new(),
        )
        .unwrap();
        // Not named by the answer: still unsure.
        assert!(matches!(
            j.earlier("cph_phone_restart", "restart", &old[1..], &HashMap::new())
                .get(&id("b")),
            Some(Earlier::Unsure(_))
        ));
        let new = [(id("a"), intent("a", "y"))];
        let _pending = j.sending("cph_phone_restart", "restart", &new).unwrap();
        let entries = j.entries();
        assert_eq!(entries.len(), 2);
        let phones: Vec<Vec<&str>> = entries
            .iter()
            .map(|(_, e)| e.phones.iter().map(|p| p.phone_id.as_str()).collect())
            .collect();
        assert!(
            phones.contains(&vec!["b"]) && phones.contains(&vec!["a"]),
            "{phones:?}"
        );
    }

    #[test]
    fn the_directory_follows_terraforms_data_directory() {
        let cwd = Path::new("/work/config");
        assert_eq!(
            default_dir(None, cwd),
            Path::new("/work/config/.terraform/cph-journal")
        );
        assert_eq!(
            default_dir(Some("/var/tf"), cwd),
            Path::new("/var/tf/cph-journal")
        );
        assert_eq!(
            default_dir(Some("data"), cwd),
            Path::new("/work/config/data/cph-journal")
        );
    }
}
