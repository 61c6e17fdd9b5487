//! A profile compiled to BPF by seccompiler, as a stack of filters (see the module
//! above for why).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{Action, Cond, Filters, Op, Profile, Rule};

/// Compiles `profile` for this machine. Calls this architecture does not have are left
/// out, as libseccomp does.
pub fn compile(profile: &Profile) -> Result<Filters, String> {
    let arch = seccompiler::TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|_| format!("no seccomp support for {}", std::env::consts::ARCH))?;
    // seccompiler refuses a name it does not know; find those first, one by one.
    let mut unknown: Vec<String> = profile.rules.iter().flat_map(|r| r.names.clone()).collect();
    unknown.sort();
    unknown.dedup();
    unknown.retain(|name| {
        let probe = json!({ "p": {
            "mismatch_action": "allow", "match_action": "log", "filter": [{ "syscall": name }]
        }});
        seccompiler::compile_from_json(probe.to_string().as_bytes(), arch).is_err()
    });
    let (names, doc) = to_seccompiler(profile, &unknown);
    let mut map = seccompiler::compile_from_json(doc.to_string().as_bytes(), arch)
        .map_err(|e| e.to_string())?;
    let mut filters = x32_filter();
    filters.extend(names.iter().filter_map(|n| map.remove(n)));
    Ok(Filters(filters))
}

/// The profile in seccompiler's JSON form, and the filter names in installation order.
fn to_seccompiler(profile: &Profile, unknown: &[String]) -> (Vec<String>, Value) {
    let mut filters = serde_json::Map::new();
    let mut names = Vec::new();
    let mut add = |name: String, mismatch: Action, matched: Action, rules: Vec<&Rule>| {
        filters.insert(
            name.clone(),
            json!({
                "mismatch_action": action_json(mismatch),
                "match_action": action_json(matched),
                "filter": rules_json(&rules, unknown),
            }),
        );
        names.push(name);
    };
    let others: Vec<&Rule> = profile
        .rules
        .iter()
        .filter(|r| r.action != profile.default)
        .collect();
    if profile.default != Action::Allow {
        add(
            "default".into(),
            profile.default,
            Action::Allow,
            others.clone(),
        );
    }
    let mut actions: Vec<Action> = others
        .iter()
        .map(|r| r.action)
        .filter(|a| *a != Action::Allow)
        .collect();
    actions.sort();
    actions.dedup();
    for (i, act) in actions.into_iter().enumerate() {
        let rules = others.iter().copied().filter(|r| r.action == act).collect();
        add(format!("action{i}"), Action::Allow, act, rules);
    }
    (names, Value::Object(filters))
}

fn action_json(a: Action) -> Value {
    match a {
        Action::Allow => json!("allow"),
        Action::Errno(n) => json!({ "errno": n }),
        Action::KillThread => json!("kill_thread"),
        Action::KillProcess => json!("kill_process"),
        Action::Trap => json!("trap"),
        Action::Log => json!("log"),
        Action::Trace(n) => json!({ "trace": n }),
    }
}

/// One seccompiler rule per call and condition list; a call that is matched whatever
/// its arguments gets a single rule without conditions.
fn rules_json(rules: &[&Rule], unknown: &[String]) -> Value {
    let mut by_name: BTreeMap<&str, Option<Vec<&[Cond]>>> = BTreeMap::new();
    for rule in rules {
        for name in rule.names.iter().filter(|n| !unknown.contains(n)) {
            let entry = by_name.entry(name).or_insert_with(|| Some(Vec::new()));
            match entry {
                Some(lists) if !rule.args.is_empty() => lists.push(&rule.args),
                _ => *entry = None,
            }
        }
    }
    let mut out = Vec::new();
    for (name, lists) in by_name {
        match lists {
            None => out.push(json!({ "syscall": name })),
            Some(lists) => out.extend(lists.into_iter().map(|conds| {
                json!({ "syscall": name, "args": conds.iter().map(cond_json).collect::<Vec<_>>() })
            })),
        }
    }
    Value::Array(out)
}

fn cond_json(c: &Cond) -> Value {
    let op = match c.op {
        Op::Eq => json!("eq"),
        Op::Ne => json!("ne"),
        Op::Lt => json!("lt"),
        Op::Le => json!("le"),
        Op::Gt => json!("gt"),
        Op::Ge => json!("ge"),
        Op::MaskedEq(mask) => json!({ "masked_eq": mask }),
    };
    let value = if c.wide {
        c.value
    } else {
        c.value & 0xffff_ffff
    };
    json!({ "index": c.index, "type": if c.wide { "qword" } else { "dword" }, "op": op, "val": value })
}

/// On x86_64, the x32 ABI reaches the same calls under other numbers (bit 30 set), past
/// a filter written for the native ones: a first filter refuses every x32 call.
fn x32_filter() -> Vec<seccompiler::BpfProgram> {
    if !cfg!(target_arch = "x86_64") {
        return Vec::new();
    }
    const LD_ABS_W: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const JGE_K: u16 = 0x35;
    const RET_K: u16 = 0x06;
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const X32_BIT: u32 = 0x4000_0000;
    let ins = |code, jt, jf, k| seccompiler::sock_filter { code, jt, jf, k };
    vec![vec![
        ins(LD_ABS_W, 0, 0, 4),
        ins(JEQ_K, 0, 2, AUDIT_ARCH_X86_64),
        ins(LD_ABS_W, 0, 0, 0),
        ins(JGE_K, 1, 0, X32_BIT),
        ins(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
        ins(RET_K, 0, 0, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
    ]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_matched_whatever_its_arguments_has_one_rule() {
        let cond = Cond {
            index: 0,
            wide: false,
            op: Op::Eq,
            value: 1,
        };
        let a = Rule {
            names: vec!["x".into()],
            action: Action::Allow,
            args: vec![cond],
        };
        let b = Rule {
            args: vec![],
            ..a.clone()
        };
        assert_eq!(rules_json(&[&a, &b], &[]), json!([{ "syscall": "x" }]));
        assert_eq!(rules_json(&[&a], &["x".to_string()]), json!([]));
    }
}
