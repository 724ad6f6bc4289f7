//! A throwaway provider for measuring Terraform's own cost of value shapes (issue 23): one resource,
//! `cph_shape`, whose phone list and per-phone records take the shape named by environment variables
//! (read at start-up, so every provider process of one command agrees). It plans like the real engine
//! (records of new phones unknown, the rest kept exactly as they were, nothing touched when nothing
//! changes) and applies without calling anything, so Terraform's share can be timed at any N without
//! a simulator.
//!
//! - `SHAPE_IDS`: how the phones are named:
//!   `list` (`phone_ids`, list(string), the default), `set` (set(string)), `sensitive` (list(string)
//!   marked sensitive), `map` (`phone_ids`, map(string) keyed by id), `nested` (`phones`, a nested list
//!   attribute of `{ phone_id }`), `nestedmap` (`phones`, a nested map attribute keyed by id, of
//!   `{ properties = optional(map(string)) }`).
//! - `SHAPE_RECORDS`: what `jobs` holds per phone: `obj8` (map of the eight-field record, the default,
//!   as `cph_phone_restart` keeps it), `obj3` (map of `{status, job_id, request_id}`), `str` (map of one
//!   string), `list8` (list of eight-field records), `none` (no records).
//!
//! ```text
//! cargo build --release -p terraform-provider-cph --examples
//! # a configuration using `resource "cph_shape" "all" { phone_ids = ... }` under dev_overrides,
//! # with target/release/examples/shapes linked as terraform-provider-cph
//! SHAPE_IDS=map SHAPE_RECORDS=str terraform apply
//! ```
//!
//! Not a test and not shipped: BENCHMARKS.md ("Plan at scale: where the time goes") gives the figures.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeSet;
use std::process::ExitCode;

use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, ConfigureRequest, Context,
    Diagnostics, Fields, ObjectNesting, PlanRequest, PlanResponse, Presence, Provider, Registry,
    Resource, Schema, Type, Value,
};

const FIELDS8: [&str; 8] = [
    "phone_id",
    "request_id",
    "job_id",
    "status",
    "error_code",
    "error_msg",
    "begin_time",
    "end_time",
];
const FIELDS3: [&str; 3] = ["status", "job_id", "request_id"];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ids {
    List,
    Set,
    Sensitive,
    Map,
    Nested,
    NestedMap,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Records {
    Obj8,
    Obj3,
    Str,
    List8,
    None,
}

#[derive(Clone, Copy)]
struct Shape {
    ids: Ids,
    records: Records,
}

impl Shape {
    fn from_env() -> Shape {
        let ids = match std::env::var("SHAPE_IDS").as_deref() {
            Ok("set") => Ids::Set,
            Ok("sensitive") => Ids::Sensitive,
            Ok("map") => Ids::Map,
            Ok("nested") => Ids::Nested,
            Ok("nestedmap") => Ids::NestedMap,
            _ => Ids::List,
        };
        let records = match std::env::var("SHAPE_RECORDS").as_deref() {
            Ok("obj3") => Records::Obj3,
            Ok("str") => Records::Str,
            Ok("list8") => Records::List8,
            Ok("none") => Records::None,
            _ => Records::Obj8,
        };
        Shape { ids, records }
    }

    fn ids_name(self) -> &'static str {
        if matches!(self.ids, Ids::Nested | Ids::NestedMap) {
            "phones"
        } else {
            "phone_ids"
        }
    }

    /// The phone ids a configuration or plan names, in its order (`None` while unknown).
    fn ids_of(self, object: &Value) -> Option<Vec<String>> {
        let value = object.get(self.ids_name())?;
        let out = match (self.ids, value) {
            (Ids::Map | Ids::NestedMap, Value::Map(m)) => m.keys().cloned().collect(),
            (Ids::Nested, Value::List(items)) => items
                .iter()
                .map(|p| p.get("phone_id").and_then(Value::as_str).map(str::to_owned))
                .collect::<Option<_>>()?,
            (_, Value::List(items) | Value::Set(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
            _ => return None,
        };
        Some(out)
    }

    fn record_type(self) -> Option<Type> {
        match self.records {
            Records::Obj8 | Records::List8 => {
                Some(Type::object(FIELDS8.map(|f| (f, Type::String))))
            }
            Records::Obj3 => Some(Type::object(FIELDS3.map(|f| (f, Type::String)))),
            Records::Str => Some(Type::String),
            Records::None => None,
        }
    }

    fn record(self, id: &str, request: &str) -> Value {
        let job = format!("{:x}", md5ish(id));
        let field = |name: &str| -> Value {
            Value::from(match name {
                "phone_id" => id.to_owned(),
                "request_id" => request.to_owned(),
                "job_id" => job.clone(),
                "status" => "success".to_owned(),
                "begin_time" => "2026-12-03T22:57:02Z".to_owned(),
                "end_time" => "2026-12-03T22:57:03Z".to_owned(),
                _ => String::new(),
            })
        };
        match self.records {
            Records::Obj8 | Records::List8 => {
                Value::Object(FIELDS8.iter().map(|f| (*f, field(f))).collect())
            }
            Records::Obj3 => Value::Object(FIELDS3.iter().map(|f| (*f, field(f))).collect()),
            Records::Str => Value::from(format!("success {request} {job} 2026-12-03T22:57:03Z")),
            Records::None => Value::Null,
        }
    }
}

/// A stable 128-bit hash of a string, for job ids that look like the service's.
fn md5ish(s: &str) -> u128 {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in s.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    h
}

struct ShapeResource(Shape);

impl ShapeResource {
    /// The records after an apply of `ids`: kept ones as they were, new ones fresh.
    fn records_after(&self, ids: &[String], prior: &Value) -> Value {
        let shape = self.0;
        let prior_records = prior.get("jobs");
        let fresh = |i: usize, id: &String| shape.record(id, &format!("req-{:04}", i / 100));
        match shape.records {
            Records::None => Value::Null,
            Records::List8 => Value::List(
                ids.iter()
                    .enumerate()
                    .map(|(i, id)| {
                        prior_records
                            .and_then(Value::as_elements)
                            .and_then(|e| {
                                e.iter()
                                    .find(|r| r.get("phone_id").and_then(Value::as_str) == Some(id))
                            })
                            .cloned()
                            .unwrap_or_else(|| fresh(i, id))
                    })
                    .collect(),
            ),
            _ => Value::Map(
                ids.iter()
                    .enumerate()
                    .map(|(i, id)| {
                        let kept = prior_records
                            .and_then(|r| r.get(id))
                            .filter(|v| !v.is_null());
                        (id.clone(), kept.cloned().unwrap_or_else(|| fresh(i, id)))
                    })
                    .collect(),
            ),
        }
    }
}

impl Resource<()> for ShapeResource {
    fn type_name(&self) -> String {
        "cph_shape".into()
    }

    fn schema(&self) -> Schema {
        let shape = self.0;
        let ids = match shape.ids {
            Ids::List => Attribute::required("phone_ids", Type::list(Type::String)),
            Ids::Sensitive => {
                Attribute::required("phone_ids", Type::list(Type::String)).sensitive()
            }
            Ids::Set => Attribute::required("phone_ids", Type::set(Type::String)),
            Ids::Map => Attribute::required("phone_ids", Type::map(Type::String)),
            Ids::Nested => Attribute::nested(
                "phones",
                ObjectNesting::List,
                Presence::Required,
                vec![Attribute::required("phone_id", Type::String)],
            ),
            Ids::NestedMap => Attribute::nested(
                "phones",
                ObjectNesting::Map,
                Presence::Required,
                vec![Attribute::optional("properties", Type::map(Type::String))],
            ),
        };
        let mut block = Block::new()
            .attribute(Attribute::computed("id", Type::String))
            .attribute(ids)
            .attribute(Attribute::computed("request_ids", Type::list(Type::String)));
        if let Some(ty) = shape.record_type() {
            let jobs = if shape.records == Records::List8 {
                Type::list(ty)
            } else {
                Type::map(ty)
            };
            block = block.attribute(Attribute::computed("jobs", jobs));
        }
        Schema::new(0, block)
    }

    async fn modify_plan(&self, _ctx: &Context<()>, req: &PlanRequest, plan: &mut PlanResponse) {
        let shape = self.0;
        if req.prior_state.is_null() || plan.planned_state.is_null() {
            return;
        }
        let Some(ids) = shape.ids_of(&req.config) else {
            return;
        };
        let prior_ids: BTreeSet<String> = shape
            .ids_of(&req.prior_state)
            .unwrap_or_default()
            .into_iter()
            .collect();
        let keep = |name: &str, plan: &mut PlanResponse| {
            if let Some(v) = req.prior_state.get(name) {
                plan.planned_state
                    .set_path(&AttributePath::root(name), v.clone());
            }
        };
        keep("id", plan);
        let same = ids.len() == prior_ids.len() && ids.iter().all(|id| prior_ids.contains(id));
        if same {
            // Nothing changes: every computed value exactly as it was.
            keep("request_ids", plan);
            keep("jobs", plan);
            return;
        }
        plan.set_unknown(&AttributePath::root("request_ids"));
        let prior_jobs = req.prior_state.get("jobs");
        let planned = match shape.records {
            Records::None => return,
            Records::List8 => Value::Unknown,
            _ => Value::Map(
                ids.iter()
                    .map(|id| {
                        let kept = prior_jobs.and_then(|r| r.get(id)).filter(|v| !v.is_null());
                        (id.clone(), kept.cloned().unwrap_or(Value::Unknown))
                    })
                    .collect::<Fields>(),
            ),
        };
        plan.planned_state
            .set_path(&AttributePath::root("jobs"), planned);
    }

    async fn create(&self, _ctx: &Context<()>, req: ApplyRequest) -> ApplyResponse {
        self.applied(req)
    }

    async fn update(&self, _ctx: &Context<()>, req: ApplyRequest) -> ApplyResponse {
        self.applied(req)
    }
}

impl ShapeResource {
    fn applied(&self, req: ApplyRequest) -> ApplyResponse {
        let shape = self.0;
        let ids = shape.ids_of(&req.planned_state).unwrap_or_default();
        let mut state = req.planned_state;
        let records = self.records_after(&ids, &req.prior_state);
        let requests: Vec<Value> = (0..ids.len().div_ceil(100))
            .map(|i| Value::from(format!("req-{i:04}")))
            .collect();
        let id = req
            .prior_state
            .get("id")
            .cloned()
            .filter(|v| !v.is_null())
            .unwrap_or_else(|| Value::from("shape"));
        state.set_path(&AttributePath::root("id"), id);
        state.set_path(&AttributePath::root("request_ids"), Value::List(requests));
        if shape.records != Records::None {
            state.set_path(&AttributePath::root("jobs"), records);
        }
        ApplyResponse::ok(state)
    }
}

struct ShapeProvider(Shape);

impl Provider for ShapeProvider {
    type Data = ();

    fn schema(&self) -> Schema {
        Schema::default()
    }

    fn register(&self, registry: &mut Registry<()>) {
        registry.resource(ShapeResource(self.0));
    }

    async fn configure(&self, _req: ConfigureRequest, _diags: &mut Diagnostics) -> Option<()> {
        Some(())
    }
}

fn main() -> ExitCode {
    tfplugin::serve(
        ShapeProvider(Shape::from_env()),
        tfplugin::ServeConfig::from_args("registry.terraform.io/cph-community/cph"),
    )
}
