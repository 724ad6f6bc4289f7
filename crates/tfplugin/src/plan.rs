//! Plan computation from the schema's modifiers (computed-unknown marking, requires-replace,
//! keep-prior-value) and the debug-build self-checks of Terraform's plan and apply invariants.

use crate::schema::{AttributeType, BlockNesting, ObjectNesting};
use crate::{Attribute, AttributePath, Block, Diagnostics, NestedBlock, Value};

/// Marks computed attributes that the configuration leaves null as unknown, where the value may change:
/// always on create (null `prior`), and on update (`changing`) unless the attribute uses the prior state.
pub(crate) fn mark_computed_unknown(
    block: &Block,
    planned: &mut Value,
    config: &Value,
    prior: &Value,
    changing: bool,
) {
    mark_in_object(
        &block.attributes,
        &block.blocks,
        planned,
        config,
        prior,
        changing,
    );
}

fn child<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.get(name).unwrap_or(&Value::Null)
}

fn mark_in_object(
    attributes: &[Attribute],
    blocks: &[NestedBlock],
    planned: &mut Value,
    config: &Value,
    prior: &Value,
    changing: bool,
) {
    let Value::Object(fields) = planned else {
        return;
    };
    for attr in attributes {
        let Some(slot) = fields.get_mut(&attr.name) else {
            continue;
        };
        let cfg = child(config, &attr.name);
        let old = child(prior, &attr.name);
        if let Some(default) = attr.default.as_ref().filter(|_| cfg.is_null()) {
            *slot = default.clone();
            continue;
        }
        if attr.presence.is_computed() && cfg.is_null() {
            let keep = !prior.is_null() && (!changing || attr.use_state_for_unknown);
            if !keep {
                *slot = Value::Unknown;
            }
            continue;
        }
        if let AttributeType::Nested {
            nesting,
            attributes: inner,
        } = &attr.ty
        {
            let single = *nesting == ObjectNesting::Single;
            each_element(single, slot, cfg, old, |p, c, o| {
                mark_in_object(inner, &[], p, c, o, changing)
            });
        }
    }
    for nb in blocks {
        let Some(slot) = fields.get_mut(&nb.name) else {
            continue;
        };
        let single = matches!(nb.nesting, BlockNesting::Single | BlockNesting::Group);
        each_element(
            single,
            slot,
            child(config, &nb.name),
            child(prior, &nb.name),
            |p, c, o| mark_in_object(&nb.block.attributes, &nb.block.blocks, p, c, o, changing),
        );
    }
}

/// Visits the object(s) held by a nested attribute or block, pairing planned elements with
/// config and prior elements by index (lists, sets) or key (maps).
fn each_element(
    single: bool,
    planned: &mut Value,
    config: &Value,
    prior: &Value,
    mut f: impl FnMut(&mut Value, &Value, &Value),
) {
    if single {
        f(planned, config, prior);
        return;
    }
    match planned {
        Value::List(items) | Value::Set(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let c = config
                    .as_elements()
                    .and_then(|e| e.get(i))
                    .unwrap_or(&Value::Null);
                let o = prior
                    .as_elements()
                    .and_then(|e| e.get(i))
                    .unwrap_or(&Value::Null);
                f(item, c, o);
            }
        }
        Value::Map(items) => {
            for (k, item) in items.iter_mut() {
                f(item, child(config, k), child(prior, k));
            }
        }
        _ => {}
    }
}

/// Paths whose change forces replacement, from attributes and blocks marked `requires_replace`.
pub(crate) fn replace_paths(block: &Block, prior: &Value, planned: &Value) -> Vec<AttributePath> {
    let mut out = Vec::new();
    if prior.is_null() || planned.is_null() {
        return out;
    }
    replace_in_object(
        &block.attributes,
        &block.blocks,
        prior,
        planned,
        &AttributePath::empty(),
        &mut out,
    );
    out
}

fn has_replace(attributes: &[Attribute]) -> bool {
    attributes.iter().any(|a| {
        a.requires_replace
            || matches!(&a.ty, AttributeType::Nested { attributes, .. } if has_replace(attributes))
    })
}

fn replace_in_object(
    attributes: &[Attribute],
    blocks: &[NestedBlock],
    prior: &Value,
    planned: &Value,
    at: &AttributePath,
    out: &mut Vec<AttributePath>,
) {
    for attr in attributes {
        let (old, new) = (child(prior, &attr.name), child(planned, &attr.name));
        let path = at.clone().attr(attr.name.clone());
        if old.semantically_equals(new) {
            continue;
        }
        if attr.requires_replace {
            out.push(path);
            continue;
        }
        if let AttributeType::Nested {
            nesting,
            attributes: inner,
        } = &attr.ty
            && has_replace(inner)
        {
            replace_in_elements(
                *nesting == ObjectNesting::Single,
                inner,
                &[],
                old,
                new,
                &path,
                out,
            );
        }
    }
    for nb in blocks {
        let (old, new) = (child(prior, &nb.name), child(planned, &nb.name));
        if old.semantically_equals(new) {
            continue;
        }
        let path = at.clone().attr(nb.name.clone());
        if nb.requires_replace {
            out.push(path);
            continue;
        }
        if has_replace(&nb.block.attributes) {
            let single = matches!(nb.nesting, BlockNesting::Single | BlockNesting::Group);
            replace_in_elements(
                single,
                &nb.block.attributes,
                &nb.block.blocks,
                old,
                new,
                &path,
                out,
            );
        }
    }
}

fn replace_in_elements(
    single: bool,
    attributes: &[Attribute],
    blocks: &[NestedBlock],
    old: &Value,
    new: &Value,
    path: &AttributePath,
    out: &mut Vec<AttributePath>,
) {
    if single {
        if old.is_null() || new.is_null() || new.is_unknown() {
            out.push(path.clone());
        } else {
            replace_in_object(attributes, blocks, old, new, path, out);
        }
        return;
    }
    match (old, new) {
        (Value::List(a), Value::List(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                replace_in_object(attributes, blocks, x, y, &path.clone().index(i), out);
            }
        }
        // Added, removed or reordered elements, sets and unknown collections: replace on the whole collection.
        _ => out.push(path.clone()),
    }
}

/// Self-check of a plan: values the provider does not compute must be planned exactly as configured.
pub(crate) fn check_plan_follows_config(
    block: &Block,
    config: &Value,
    planned: &Value,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if !planned.is_null() && !config.is_null() {
        check_object(
            &block.attributes,
            &block.blocks,
            config,
            planned,
            &AttributePath::empty(),
            &mut diags,
        );
    }
    diags
}

fn check_object(
    attributes: &[Attribute],
    blocks: &[NestedBlock],
    config: &Value,
    planned: &Value,
    at: &AttributePath,
    diags: &mut Diagnostics,
) {
    for attr in attributes {
        let (cfg, plan) = (child(config, &attr.name), child(planned, &attr.name));
        let path = at.clone().attr(attr.name.clone());
        let must_follow = !attr.presence.is_computed() || !cfg.is_null();
        match &attr.ty {
            AttributeType::Nested {
                nesting,
                attributes: inner,
            } if !attr.presence.is_computed() => {
                if cfg.is_null() || cfg.is_unknown() {
                    if !cfg.semantically_equals(plan) {
                        plan_error(diags, &path, cfg, plan);
                    }
                } else {
                    check_elements(
                        *nesting == ObjectNesting::Single,
                        inner,
                        &[],
                        cfg,
                        plan,
                        &path,
                        diags,
                    );
                }
            }
            _ if must_follow && !cfg.semantically_equals(plan) => {
                plan_error(diags, &path, cfg, plan)
            }
            _ => {}
        }
    }
    for nb in blocks {
        let (cfg, plan) = (child(config, &nb.name), child(planned, &nb.name));
        let path = at.clone().attr(nb.name.clone());
        let single = matches!(nb.nesting, BlockNesting::Single | BlockNesting::Group);
        check_elements(
            single,
            &nb.block.attributes,
            &nb.block.blocks,
            cfg,
            plan,
            &path,
            diags,
        );
    }
}

fn check_elements(
    single: bool,
    attributes: &[Attribute],
    blocks: &[NestedBlock],
    cfg: &Value,
    plan: &Value,
    path: &AttributePath,
    diags: &mut Diagnostics,
) {
    if single {
        if cfg.is_null() != plan.is_null() {
            plan_error(diags, path, cfg, plan);
        } else {
            check_object(attributes, blocks, cfg, plan, path, diags);
        }
        return;
    }
    match (cfg, plan) {
        (Value::List(a), Value::List(b)) | (Value::Set(a), Value::Set(b)) if a.len() == b.len() => {
            for (i, (c, p)) in a.iter().zip(b).enumerate() {
                check_object(attributes, blocks, c, p, &path.clone().index(i), diags);
            }
        }
        (Value::Map(a), Value::Map(b)) if a.len() == b.len() => {
            for (k, c) in a {
                check_object(attributes, blocks, c, child(plan, k), &path.clone().key(k.clone()), diags);
            }
        }
        (Value::Unknown, Value::Unknown) => {}
        _ => diags.attribute_error(
            path.clone(),
            "Provider Produced Invalid Plan",
            format!("the planned number of {path} elements differs from the configuration; this is a provider bug"),
        ),
    }
}

fn plan_error(diags: &mut Diagnostics, path: &AttributePath, cfg: &Value, plan: &Value) {
    diags.attribute_error(
        path.clone(),
        "Provider Produced Invalid Plan",
        format!(
            "{path} is planned as {} but configured as {}; a value the provider does not compute must be planned as configured (provider bug)",
            plan.kind(),
            cfg.kind()
        ),
    );
}

/// Self-check of an apply result: wholly known, non-null, and every known planned value unchanged.
pub(crate) fn check_apply_result(planned: &Value, new: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if new.is_null() {
        diags.error(
            "Provider Produced Invalid Result",
            "apply returned a null object for a create or update (provider bug)",
        );
        return diags;
    }
    check_known(planned, new, &AttributePath::empty(), &mut diags);
    diags
}

fn check_known(planned: &Value, new: &Value, at: &AttributePath, diags: &mut Diagnostics) {
    let bad = |diags: &mut Diagnostics, what: &str| {
        diags.attribute_error(
            at.clone(),
            "Provider Produced Invalid Result",
            format!("after apply {at} {what} (provider bug)"),
        )
    };
    match (planned, new) {
        (_, Value::Unknown) => bad(diags, "is still unknown"),
        (Value::Unknown, n) => {
            if !n.is_wholly_known() {
                bad(diags, "is still partly unknown");
            }
        }
        (Value::Object(p), Value::Object(n)) => {
            for (k, pv) in p {
                check_known(
                    pv,
                    n.get(k).unwrap_or(&Value::Null),
                    &at.clone().attr(k.clone()),
                    diags,
                );
            }
        }
        (Value::List(p), Value::List(n)) | (Value::Tuple(p), Value::Tuple(n))
            if p.len() == n.len() =>
        {
            for (i, (pv, nv)) in p.iter().zip(n).enumerate() {
                check_known(pv, nv, &at.clone().index(i), diags);
            }
        }
        (Value::Map(p), Value::Map(n)) if p.keys().eq(n.keys()) => {
            for (k, pv) in p {
                if let Some(nv) = n.get(k) {
                    check_known(pv, nv, &at.clone().key(k.clone()), diags);
                }
            }
        }
        (Value::Set(p), Value::Set(n)) if p.iter().all(Value::is_wholly_known) => {
            if !planned.semantically_equals(new) {
                bad(diags, "differs from the planned set");
            }
            let _ = n;
        }
        (Value::Set(_), Value::Set(_)) => {}
        (p, n) if p == n => {}
        _ => bad(
            diags,
            &format!(
                "changed from the planned {} to {}",
                planned.kind(),
                new.kind()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ObjectNesting, Presence, Schema, Type};

    fn schema() -> Schema {
        Schema::new(
            0,
            Block::new()
                .attribute(Attribute::computed("id", Type::String).use_state_for_unknown())
                .attribute(Attribute::computed("status", Type::String))
                .attribute(Attribute::optional("image_id", Type::String).requires_replace())
                .attribute(Attribute::optional("note", Type::String))
                .attribute(Attribute::nested(
                    "phones",
                    ObjectNesting::List,
                    Presence::Required,
                    vec![
                        Attribute::required("phone_id", Type::String).requires_replace(),
                        Attribute::computed("job_id", Type::String),
                    ],
                )),
        )
    }

    fn state(id: Value, status: Value, image: &str, note: &str, job: Value) -> Value {
        Value::object([
            ("id", id),
            ("status", status),
            ("image_id", Value::from(image)),
            ("note", Value::from(note)),
            (
                "phones",
                Value::List(vec![Value::object([
                    ("phone_id", Value::from("p1")),
                    ("job_id", job),
                ])]),
            ),
        ])
    }

    #[test]
    fn create_marks_every_unset_computed_value_unknown() {
        let s = schema();
        let config = state(Value::Null, Value::Null, "img", "n", Value::Null);
        let mut planned = config.clone();
        mark_computed_unknown(&s.block, &mut planned, &config, &Value::Null, true);
        assert_eq!(
            planned,
            state(Value::Unknown, Value::Unknown, "img", "n", Value::Unknown)
        );
        assert!(check_plan_follows_config(&s.block, &config, &planned).is_empty());
    }

    #[test]
    fn update_keeps_prior_for_use_state_for_unknown_and_unknowns_the_rest() {
        let s = schema();
        let prior = state(
            Value::from("r1"),
            Value::from("ok"),
            "img",
            "old",
            Value::from("j1"),
        );
        let config = state(Value::Null, Value::Null, "img", "new", Value::Null);
        let mut planned = state(
            Value::from("r1"),
            Value::from("ok"),
            "img",
            "new",
            Value::from("j1"),
        );
        mark_computed_unknown(&s.block, &mut planned, &config, &prior, true);
        assert_eq!(
            planned,
            state(
                Value::from("r1"),
                Value::Unknown,
                "img",
                "new",
                Value::Unknown
            )
        );
    }

    #[test]
    fn defaults_are_planned_where_the_configuration_leaves_an_attribute_unset() {
        let block = Block::new()
            .attribute(
                Attribute::optional_computed("allow", Type::Bool).default(Value::Bool(false)),
            )
            .attribute(Attribute::optional_computed("other", Type::Bool));
        let config = Value::object([("allow", Value::Null), ("other", Value::Null)]);
        let mut planned = config.clone();
        mark_computed_unknown(&block, &mut planned, &config, &Value::Null, true);
        assert_eq!(planned.get("allow"), Some(&Value::Bool(false)));
        assert_eq!(planned.get("other"), Some(&Value::Unknown));
        // A configured value wins, and the default is the planned value on update too.
        let config = Value::object([("allow", Value::Bool(true)), ("other", Value::Null)]);
        let mut planned = config.clone();
        mark_computed_unknown(&block, &mut planned, &config, &Value::Null, true);
        assert_eq!(planned.get("allow"), Some(&Value::Bool(true)));
        let prior = Value::object([("allow", Value::Bool(true)), ("other", Value::Bool(true))]);
        let config = Value::object([("allow", Value::Null), ("other", Value::Null)]);
        let mut planned = prior.clone();
        mark_computed_unknown(&block, &mut planned, &config, &prior, true);
        assert_eq!(planned.get("allow"), Some(&Value::Bool(false)));
        assert!(check_plan_follows_config(&block, &config, &planned).is_empty());
    }

    #[test]
    fn no_change_keeps_prior_computed_values() {
        let s = schema();
        let prior = state(
            Value::from("r1"),
            Value::from("ok"),
            "img",
            "n",
            Value::from("j1"),
        );
        let config = state(Value::Null, Value::Null, "img", "n", Value::Null);
        let mut planned = prior.clone();
        mark_computed_unknown(&s.block, &mut planned, &config, &prior, false);
        assert_eq!(planned, prior);
    }

    #[test]
    fn requires_replace_reports_changed_paths_only() {
        let s = schema();
        let prior = state(
            Value::from("r1"),
            Value::from("ok"),
            "img",
            "n",
            Value::from("j1"),
        );
        let planned = state(
            Value::from("r1"),
            Value::Unknown,
            "img2",
            "m",
            Value::Unknown,
        );
        let paths = replace_paths(&s.block, &prior, &planned);
        assert_eq!(paths, vec![AttributePath::root("image_id")]);
        let mut other_phone = prior.clone();
        other_phone.set_path(
            &AttributePath::root("phones").index(0).attr("phone_id"),
            Value::from("p2"),
        );
        let paths = replace_paths(&s.block, &prior, &other_phone);
        assert_eq!(
            paths,
            vec![AttributePath::root("phones").index(0).attr("phone_id")]
        );
        assert!(replace_paths(&s.block, &Value::Null, &planned).is_empty());
    }

    #[test]
    fn plan_check_catches_a_changed_configured_value() {
        let s = schema();
        let config = state(Value::Null, Value::Null, "img", "n", Value::Null);
        let planned = state(Value::Unknown, Value::Unknown, "other", "n", Value::Unknown);
        let diags = check_plan_follows_config(&s.block, &config, &planned);
        assert!(diags.has_errors());
        assert_eq!(
            diags.iter().next().and_then(|d| d.attribute.clone()),
            Some(AttributePath::root("image_id"))
        );
    }

    #[test]
    fn apply_check_catches_unknowns_and_changed_known_values() {
        let planned = state(Value::Unknown, Value::Unknown, "img", "n", Value::Unknown);
        let good = state(
            Value::from("r"),
            Value::from("ok"),
            "img",
            "n",
            Value::from("j"),
        );
        assert!(check_apply_result(&planned, &good).is_empty());
        let still_unknown = state(
            Value::from("r"),
            Value::Unknown,
            "img",
            "n",
            Value::from("j"),
        );
        assert!(check_apply_result(&planned, &still_unknown).has_errors());
        let changed = state(
            Value::from("r"),
            Value::from("ok"),
            "img",
            "changed",
            Value::from("j"),
        );
        assert!(check_apply_result(&planned, &changed).has_errors());
        assert!(check_apply_result(&planned, &Value::Null).has_errors());
    }
}
