//! A CNI command turned into an operation: ADD is an attach, DEL a detach by container
//! (and namespace), CHECK compares the lease with the kernel's view, VERSION answers.

use std::path::Path;

use super::config::{parse_config, Invocation, Settings};
use super::ipamconf;
use super::result::{
    to_json, AddResult, CniError, VersionResult, CODE_CHECK_FAILED, CODE_INVALID_ENV,
    CODE_NOT_AVAILABLE,
};
use super::{FALLBACK_VERSION, SUPPORTED_VERSIONS};
use crate::attach::{self, Request};
use crate::lease::{self, CniKey};
use crate::publish::{self, Publish};
use crate::teardown::{self, Selector};

/// Runs one CNI command on the configuration in `stdin`, with the environment read
/// through `env`. Returns what goes to stdout (if anything), or the error with the
/// version to report it in.
pub fn dispatch(
    command: &str,
    stdin: &[u8],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, (String, CniError)> {
    if command == "VERSION" {
        return Ok(Some(to_json(&VersionResult {
            cni_version: FALLBACK_VERSION,
            supported_versions: &SUPPORTED_VERSIONS,
        })));
    }
    let settings = parse_config(stdin).map_err(|e| (FALLBACK_VERSION.to_string(), e))?;
    let fail = |e: CniError| (settings.version.clone(), e);
    let root = lease::state_root(settings.state_dir.clone());
    // CNI 1.1's GC and STATUS name no container.
    match command {
        "GC" => return gc(&root, &settings).map(|()| None).map_err(fail),
        "STATUS" => return status(&root).map(|()| None).map_err(fail),
        _ => {}
    }
    let invocation = Invocation::from_env(env).map_err(fail)?;
    match command {
        "ADD" => add(&root, &settings, invocation).map(Some).map_err(fail),
        "DEL" => del(&root, &settings, invocation)
            .map(|()| None)
            .map_err(fail),
        "CHECK" => check(&root, &settings, &invocation)
            .map(|()| None)
            .map_err(fail),
        other => Err(fail(CniError::new(
            CODE_INVALID_ENV,
            format!("unknown CNI_COMMAND {other}"),
        ))),
    }
}

/// ADD: attach, keyed by container and interface; the result as JSON.
fn add(root: &Path, settings: &Settings, invocation: Invocation) -> Result<String, CniError> {
    let from_args = invocation
        .args
        .as_deref()
        .and_then(ipamconf::cni_args_ip)
        .map(|ip| ("CNI_ARGS IP", ip));
    let ips = ipamconf::static_ips(
        from_args
            .into_iter()
            .chain(settings.ips.iter().map(|(k, v)| (*k, v.as_str()))),
    )?;
    let key = CniKey {
        container_id: invocation.container_id.clone(),
        ifname: invocation.ifname.clone(),
    };
    let request = Request {
        target: invocation.need_netns()?.to_string(),
        bridge: settings.bridge.clone(),
        subnet: settings.subnet,
        subnet6: settings.subnet6,
        ip: ips.v4.map(|ip| ip.to_string()),
        ip6: ips.v6,
        ifname: invocation.ifname.clone(),
        mtu: settings.mtu,
        default_route: settings.default_route,
        nat: settings.nat,
        state_root: root.to_path_buf(),
        cni: Some(key.clone()),
        ranges: settings.ranges.clone(),
        routes: settings.routes.clone(),
        gateway: settings.gateway,
        hairpin: settings.hairpin,
        promisc: settings.promisc,
    };
    let a = attach::attach(&request, |_| Ok(())).map_err(|e| CniError::from_error(&e))?;
    // The portMappings capability: published with the attachment, which goes again
    // when one cannot be.
    for port in &settings.ports {
        let publish = Publish {
            state_root: root.to_path_buf(),
            bridge: settings.bridge.clone(),
            target: request.target.clone(),
            port: *port,
        };
        if let Err(e) = publish::publish(&publish) {
            let undo = teardown::Detach {
                state_root: root.to_path_buf(),
                bridge: settings.bridge.clone(),
                selectors: vec![Selector::Cni {
                    container_id: key.container_id.clone(),
                    ifname: key.ifname.clone(),
                }],
            };
            let _ = teardown::detach(&undo);
            return Err(CniError::from_error(&e));
        }
    }
    Ok(to_json(&AddResult::new(&settings.version, &a)))
}

/// DEL: detach by container and interface, and by namespace while it exists. The
/// namespace may be gone already (or never given): that is fine.
fn del(root: &Path, settings: &Settings, invocation: Invocation) -> Result<(), CniError> {
    let mut selectors = vec![Selector::Cni {
        container_id: invocation.container_id,
        ifname: invocation.ifname,
    }];
    if let Some(netns) = &invocation.netns {
        if let Ok(Some(ns)) = crate::netns::open(netns) {
            selectors.push(Selector::Netns(ns.id));
        }
    }
    let request = teardown::Detach {
        state_root: root.to_path_buf(),
        bridge: settings.bridge.clone(),
        selectors,
    };
    teardown::detach(&request).map_err(|e| CniError::from_error(&e))?;
    Ok(())
}

/// GC (CNI 1.1): releases every attachment of this network whose container and
/// interface are not in `cni.dev/valid-attachments`, then what dead namespaces held.
fn gc(root: &Path, settings: &Settings) -> Result<(), CniError> {
    if let Some(valid) = &settings.valid_attachments {
        let request = teardown::Detach {
            state_root: root.to_path_buf(),
            bridge: settings.bridge.clone(),
            selectors: vec![Selector::CniExcept(valid.clone())],
        };
        teardown::detach(&request).map_err(|e| CniError::from_error(&e))?;
    }
    let request = teardown::Gc {
        state_root: root.to_path_buf(),
        bridge: settings.bridge.clone(),
    };
    teardown::gc(&request).map_err(|e| CniError::from_error(&e))?;
    Ok(())
}

/// STATUS (CNI 1.1): ready when the state of this host namespace can be reached.
fn status(root: &Path) -> Result<(), CniError> {
    lease::host_root(root)
        .and_then(|dir| lease::Store::bridges(&dir).map(|_| ()))
        .map_err(|e| {
            let e = CniError::from_error(&e);
            CniError::new(CODE_NOT_AVAILABLE, e.msg.clone()).with_details(e.msg)
        })
}

/// CHECK: the lease is there, its host veth is up on the bridge, and the interface in
/// the namespace carries the leased address.
fn check(root: &Path, settings: &Settings, invocation: &Invocation) -> Result<(), CniError> {
    let netns = invocation.need_netns()?;
    let (container_id, ifname) = (&invocation.container_id, &invocation.ifname);
    let failed = |msg: String| CniError::new(CODE_CHECK_FAILED, msg);
    let request = teardown::List {
        state_root: root.to_path_buf(),
        bridge: Some(settings.bridge.clone()),
    };
    let entries = teardown::list(&request).map_err(|e| CniError::from_error(&e))?;
    let ns = crate::netns::open(netns)
        .map_err(|e| CniError::from_error(&e))?
        .ok_or_else(|| failed(format!("namespace {netns} does not exist")))?;
    let entry = entries
        .iter()
        .find(|e| e.netns == Some(ns.id) && &e.interface == ifname)
        .ok_or_else(|| {
            failed(format!(
                "container {container_id} has no attachment on {}",
                settings.bridge
            ))
        })?;
    if !entry.alive {
        return Err(failed(format!("host veth {} is missing", entry.host_veth)));
    }
    let mut inside =
        crate::netlink::Socket::open_in(ns.fd()).map_err(|e| CniError::from_error(&e))?;
    let link = crate::route::link_by_name(&mut inside, ifname)
        .map_err(|e| CniError::from_error(&e))?
        .ok_or_else(|| failed(format!("{ifname} is missing in {netns}")))?;
    let addresses =
        crate::route::addresses(&mut inside, link.index).map_err(|e| CniError::from_error(&e))?;
    let want = &entry.address;
    if !addresses.iter().any(|(ip, p)| &format!("{ip}/{p}") == want) {
        return Err(failed(format!("{ifname} in {netns} does not have {want}")));
    }
    Ok(())
}
