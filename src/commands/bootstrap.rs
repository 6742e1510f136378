//! `kgen bootstrap kind|minikube`: the script (and kind config) that runs a
//! profile on a local cluster, on stdout or in a directory.

use super::{Exit, Reporter, profile_paths, variants, write_stdout};
use crate::bootstrap::{self, Cluster, Plan};
use crate::cli::{BootstrapArgs, ProfileArgs};
use crate::output::out_dir;
use crate::pipeline::{self, Rendered};

/// The kind config's file name next to the script.
const KIND_CONFIG: &str = "kind-cluster.yaml";
const SCRIPT: &str = "bootstrap.sh";

pub fn run(args: BootstrapArgs, reporter: &mut Reporter) -> Exit {
    let path = profile_paths(args.profile_path.as_slice()).remove(0);
    // Without --env: `dev` when the profile has it, else the base.
    let env = match &args.profile.env {
        Some(e) => Some(e.clone()),
        None => {
            let Some(all) = variants(&path, &args.profile, true, reporter) else { return Exit::Problems };
            all.into_iter().flatten().find(|e| e == "dev")
        }
    };
    let mut profile_args = args.profile.clone();
    let render = |profile_args: &ProfileArgs, reporter: &mut Reporter| -> Result<Rendered, Exit> {
        let options = profile_args.options(env.clone()).map_err(|e| {
            reporter.report(&e.0);
            Exit::Usage
        })?;
        pipeline::render_file(&path, &options, &mut reporter.sources).map_err(|e| {
            reporter.report(&e.0);
            Exit::Problems
        })
    };
    let mut rendered = match render(&profile_args, reporter) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let app_images: Vec<String> = rendered.app.components.iter().map(|c| c.image.clone()).collect();
    let app_images: Vec<&str> = app_images.iter().map(String::as_str).collect();
    let (needs, _) = bootstrap::needs(&rendered.objects, args.cluster, &app_images);
    // What the local cluster changes in the render, as `--set`s the script
    // repeats: Envoy Gateway runs its proxies in a namespace of its own,
    // which the app's network policies must let in; kind's Ingress
    // controller has its own class; the app's images are loaded, not pulled.
    let (overrides, local_warnings) = bootstrap::local_overrides(&rendered, &needs, args.cluster);
    if !overrides.is_empty() {
        profile_args.sets.extend(overrides);
        rendered = match render(&profile_args, reporter) {
            Ok(r) => r,
            Err(code) => return code,
        };
    }
    let (mut needs, warnings) = bootstrap::needs(&rendered.objects, args.cluster, &app_images);
    let generated: Vec<String> = rendered.app.generated_secrets().into_iter().map(|s| s.name).collect();
    let requirements = crate::requirements::of(&rendered.objects, &generated);
    let warnings = [local_warnings, warnings, bootstrap::secrets(&mut needs, &rendered.app, &requirements)].concat();
    reporter.report(&rendered.warnings);
    reporter.report(&warnings);
    let mut render_args = vec![path.display().to_string()];
    if let Some(e) = &env {
        render_args.extend(["--env".to_string(), e.clone()]);
    }
    for s in &profile_args.sets {
        render_args.extend(["--set".to_string(), s.clone()]);
    }
    if let Some(namespace) = &profile_args.namespace {
        render_args.extend(["--namespace".to_string(), namespace.clone()]);
    }
    let in_dir = args.out_dir.is_some() && args.cluster == Cluster::Kind;
    let plan = Plan {
        cluster: args.cluster,
        app: &rendered.app.name,
        render_args,
        needs: &needs,
        kind_config_file: in_dir.then_some(KIND_CONFIG),
        env_vars: rendered
            .loaded
            .profile
            .secrets
            .values()
            .filter_map(|s| s.create.as_ref())
            .flat_map(|c| c.from_env.values().cloned())
            .collect(),
    };
    let script = bootstrap::script(&plan);
    let Some(dir) = &args.out_dir else {
        return write_stdout(&script);
    };
    let mut files = vec![out_dir::OutFile::new(SCRIPT, script)];
    if in_dir {
        files.push(out_dir::OutFile::new(KIND_CONFIG, bootstrap::kind_config(&needs)));
    }
    if let Err(e) = out_dir::write(dir, files) {
        reporter.report(&e.0);
        return Exit::Problems;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir.join(SCRIPT), std::fs::Permissions::from_mode(0o755));
    }
    reporter.status(&format!("wrote {}; run it with `{}`", dir.join(SCRIPT).display(), dir.join(SCRIPT).display()));
    Exit::Success
}
