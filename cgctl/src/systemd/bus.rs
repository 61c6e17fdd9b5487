//! systemd's manager over D-Bus (org.freedesktop.systemd1.Manager, with zbus's
//! blocking API): transient scopes, unit properties, stop, kill, freeze. The
//! connection is made on first use, so commands that never ask pay nothing.

use std::cell::OnceCell;

use zbus::blocking::{Connection, Proxy};
use zbus::zvariant::{OwnedObjectPath, Value};

use super::properties::{PropValue, Property};
use crate::error::{Error, Result};

const DEST: &str = "org.freedesktop.systemd1";
const PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
/// The error systemd answers for a unit it does not have (loaded).
const NO_SUCH_UNIT: &str = "org.freedesktop.systemd1.NoSuchUnit";

/// Which manager: the system's (root), or the caller's own user manager
/// (`$XDG_RUNTIME_DIR/bus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    System,
    User,
}

impl Scope {
    /// The system manager for root, the user's own otherwise.
    pub fn for_caller() -> Scope {
        if nix::unistd::geteuid().is_root() {
            Scope::System
        } else {
            Scope::User
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Scope::System => "the system bus",
            Scope::User => "the user bus ($XDG_RUNTIME_DIR/bus)",
        }
    }
}

/// A lazily made connection to one manager.
pub struct Bus {
    scope: Scope,
    conn: OnceCell<Connection>,
}

/// A zbus error as text, without zbus's wrapping.
fn why(e: zbus::Error) -> String {
    match e {
        zbus::Error::MethodError(name, desc, _) => match desc {
            Some(d) => format!("{d} ({name})"),
            None => name.to_string(),
        },
        e => e.to_string(),
    }
}

fn bus_error(what: impl Into<String>, e: zbus::Error) -> Error {
    Error::Bus {
        what: what.into(),
        why: why(e),
    }
}

fn to_value(p: &Property) -> Value<'static> {
    match &p.value {
        PropValue::U64(n) => Value::from(*n),
        PropValue::Bytes(b) => Value::from(b.clone()),
    }
}

impl Bus {
    pub fn new(scope: Scope) -> Bus {
        Bus {
            scope,
            conn: OnceCell::new(),
        }
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    fn conn(&self) -> Result<&Connection> {
        if let Some(c) = self.conn.get() {
            return Ok(c);
        }
        let c = match self.scope {
            Scope::System => Connection::system(),
            Scope::User => Connection::session(),
        }
        .map_err(|e| bus_error(format!("cannot connect to {}", self.scope.describe()), e))?;
        Ok(self.conn.get_or_init(|| c))
    }

    fn manager(&self) -> Result<Proxy<'_>> {
        Proxy::new(self.conn()?, DEST, PATH, MANAGER)
            .map_err(|e| bus_error("cannot reach systemd's manager", e))
    }

    /// systemd's version (the manager's `Version` property).
    pub fn version(&self) -> Result<String> {
        self.manager()?
            .get_property::<String>("Version")
            .map_err(|e| bus_error("cannot read systemd's version", e))
    }

    /// Starts the transient scope `unit` in `slice` holding `pids`, delegated, with
    /// `props`; waits until its start job is done.
    pub fn start_scope(
        &self,
        unit: &str,
        slice: &str,
        pids: &[u32],
        props: &[Property],
    ) -> Result<()> {
        let mut all: Vec<(&str, Value<'_>)> = vec![
            ("Description", Value::from(format!("cgctl {unit}"))),
            ("Slice", Value::from(slice)),
            ("Delegate", Value::from(true)),
            ("PIDs", Value::from(pids.to_vec())),
        ];
        all.extend(props.iter().map(|p| (p.name, to_value(p))));
        let aux: Vec<(&str, Vec<(&str, Value<'_>)>)> = Vec::new();
        self.run_job(
            &format!("cannot start {unit} in {slice}"),
            unit,
            "StartTransientUnit",
            &(unit, "fail", all, aux),
        )
    }

    /// Stops a unit (`StopUnit`, mode "replace": SIGTERM, then SIGKILL after its
    /// timeout) and waits until it is stopped, its cgroup removed. A unit that is
    /// already gone (a scope whose last process exited) counts as stopped.
    pub fn stop(&self, unit: &str) -> Result<()> {
        self.run_job(
            &format!("cannot stop {unit}"),
            unit,
            "StopUnit",
            &(unit, "replace"),
        )
    }

    /// Calls a manager method that queues a job, and waits for the job's end
    /// (`JobRemoved`), which must be "done".
    fn run_job<B>(&self, what: &str, unit: &str, method: &str, body: &B) -> Result<()>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        let manager = self.manager()?;
        // Listen before asking, so that the job's end cannot be missed.
        let mut removed = manager
            .receive_signal("JobRemoved")
            .map_err(|e| bus_error(what, e))?;
        let job: OwnedObjectPath = match manager.call(method, body) {
            Ok(job) => job,
            // Only StopUnit can find the unit gone, which is what it was asked for.
            Err(zbus::Error::MethodError(name, _, _))
                if method == "StopUnit" && name.as_str() == NO_SUCH_UNIT =>
            {
                return Ok(())
            }
            Err(e) => return Err(bus_error(what, e)),
        };
        for msg in &mut removed {
            let (_, path, _, result): (u32, OwnedObjectPath, String, String) =
                msg.body().deserialize().map_err(|e| bus_error(what, e))?;
            if path == job {
                return match result.as_str() {
                    "done" => Ok(()),
                    r => Err(Error::Bus {
                        what: what.to_string(),
                        why: format!("the job ended with '{r}' (see journalctl -u {unit})"),
                    }),
                };
            }
        }
        Err(Error::Bus {
            what: what.to_string(),
            why: "the bus closed before the job ended".to_string(),
        })
    }

    /// Sets `props` on a unit for this boot (`systemctl set-property --runtime`).
    pub fn set_properties(&self, unit: &str, props: &[Property]) -> Result<()> {
        let all: Vec<(&str, Value<'_>)> = props.iter().map(|p| (p.name, to_value(p))).collect();
        self.manager()?
            .call::<_, _, ()>("SetUnitProperties", &(unit, true, all))
            .map_err(|e| bus_error(format!("cannot set properties of {unit}"), e))
    }

    /// Whether the manager has `unit` loaded (`GetUnit`; false on NoSuchUnit).
    pub fn has_unit(&self, unit: &str) -> Result<bool> {
        match self
            .manager()?
            .call::<_, _, OwnedObjectPath>("GetUnit", &(unit,))
        {
            Ok(_) => Ok(true),
            Err(zbus::Error::MethodError(name, _, _)) if name.as_str() == NO_SUCH_UNIT => Ok(false),
            Err(e) => Err(bus_error(format!("cannot look up {unit}"), e)),
        }
    }

    /// Moves `pids` into a running unit's own cgroup (`AttachProcessesToUnit`).
    pub fn attach(&self, unit: &str, pids: &[u32]) -> Result<()> {
        self.manager()?
            .call::<_, _, ()>("AttachProcessesToUnit", &(unit, "", pids.to_vec()))
            .map_err(|e| bus_error(format!("cannot move PIDs {pids:?} into {unit}"), e))
    }

    /// The cgroup path of a unit (its `ControlGroup`), empty when it has none.
    pub fn control_group(&self, unit: &str) -> Result<String> {
        let what = || format!("cannot find the cgroup of {unit}");
        let path: OwnedObjectPath = self
            .manager()?
            .call("GetUnit", &(unit,))
            .map_err(|e| bus_error(what(), e))?;
        // ControlGroup is on the unit type's interface (Scope, Service, Slice).
        let kind = match unit.rsplit_once('.') {
            Some((_, "scope")) => "org.freedesktop.systemd1.Scope",
            Some((_, "slice")) => "org.freedesktop.systemd1.Slice",
            _ => "org.freedesktop.systemd1.Service",
        };
        Proxy::new(self.conn()?, DEST, path, kind)
            .and_then(|p| p.get_property::<String>("ControlGroup"))
            .map_err(|e| bus_error(what(), e))
    }

    /// SIGKILLs every process of a unit (`KillUnit`, who "all").
    pub fn kill(&self, unit: &str) -> Result<()> {
        self.manager()?
            .call::<_, _, ()>("KillUnit", &(unit, "all", libc::SIGKILL))
            .map_err(|e| bus_error(format!("cannot kill the processes of {unit}"), e))
    }

    /// `FreezeUnit` / `ThawUnit`; systemd returns once the cgroup is frozen or thawed.
    pub fn freeze(&self, unit: &str, frozen: bool) -> Result<()> {
        let (method, verb) = if frozen {
            ("FreezeUnit", "freeze")
        } else {
            ("ThawUnit", "thaw")
        };
        self.manager()?
            .call::<_, _, ()>(method, &(unit,))
            .map_err(|e| bus_error(format!("cannot {verb} {unit}"), e))
    }
}
