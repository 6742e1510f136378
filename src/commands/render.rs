//! `kgen render`: profiles to YAML or JSON on stdout, or files in a
//! directory. Everything is rendered first; nothing is printed or written
//! unless every profile renders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Exit, Messages, Reporter, profile_paths, variants, write_stdout};
use crate::cli::RenderArgs;
use crate::diagnostic::Code;
use crate::diagnostic::Diagnostic;
use crate::inputs::SecretValues;
use crate::object::Object;
use crate::output::out_dir::{self, OutFile};
use crate::output::select::{self, Selector};
use crate::output::{self, Format};
use crate::pipeline::{self, Rendered};
use crate::profile::load::{self, Options, Parsed};
use crate::source::SourceMap;

/// What is kept of a rendered profile until everything has rendered: the
/// objects (or, for a YAML stream, their text), not the profile's tree.
struct ProfileOutput {
    path: PathBuf,
    app: String,
    environment: String,
    /// `Kind/namespace/name` of every object, to find duplicates.
    ids: Vec<String>,
    /// The objects, unless they are already in the YAML stream.
    objects: Vec<Object>,
    /// With --kustomize: the render with markers.
    marked: Option<Marked>,
    /// With --show-only: what the selectors found.
    selection: Option<Selection>,
}

/// The bundle rendered with markers where text names objects
/// (`pipeline::render_marked`), and the app's namespace: what the
/// kustomize writer compares the bundle with.
struct Marked {
    namespace: String,
    objects: Vec<Object>,
}

/// What `--show-only` found in one render.
struct Selection {
    /// Per selector, in order: whether it matched an object of the render.
    matched: Vec<bool>,
    /// The kubectl name of every object rendered (for hints).
    names: Vec<String>,
}

/// How each render is shaped, the same for every profile of a run.
#[derive(Clone, Copy)]
struct Shape<'a> {
    /// Written as a YAML stream while rendering.
    stream: bool,
    /// With --kustomize: also the marked render.
    kustomize: bool,
    /// --show-only.
    selectors: &'a [Selector],
    format: crate::diagnostic::Format,
}

/// The renders a run asks for: each profile in each environment.
struct Jobs<'a> {
    list: Vec<(&'a Path, Options)>,
    /// Renders attempted, counting profiles whose environments could not
    /// be listed (reported already).
    attempted: usize,
}

pub fn run(args: RenderArgs, reporter: &mut Reporter) -> Exit {
    let selectors = match args.show_only.iter().map(|s| Selector::parse(s)).collect::<Result<Vec<_>, _>>() {
        Ok(s) => s,
        Err(e) => {
            reporter.report(&[*e]);
            return Exit::Usage;
        }
    };
    let paths = profile_paths(&args.profiles);
    let batch = args.out_dir.is_some() && (paths.len() > 1 || args.batch);
    let Some(jobs) = jobs(&args, &paths, batch, reporter) else {
        return Exit::Usage;
    };
    // A YAML stream is written as each profile renders (and printed only
    // once all have), so that a batch holds text, not objects.
    let stream = args.out_dir.is_none() && args.output == Format::Yaml;
    let shape = Shape { stream, kustomize: args.kustomize, selectors: &selectors, format: reporter.format() };
    let (mut text, bundles) = render_jobs(&jobs, shape, reporter);
    if let Err(problems) = all_rendered(&bundles, jobs.attempted, &selectors) {
        reporter.report(&problems);
        return Exit::Problems;
    }
    let Some(dir) = &args.out_dir else {
        match args.output {
            Format::Yaml => {}
            Format::Json => text = output::to_json(bundles.iter().flat_map(|b| &b.objects)),
            Format::Name => text = select::to_names(bundles.iter().flat_map(|b| &b.objects)),
        }
        return write_stdout(&text);
    };
    write_out_dir(dir, &bundles, batch, args.include_secrets, reporter)
}

/// Every profile in every environment asked for (in batch mode without
/// `--env`: the base and every environment); `None` after reporting
/// options that cannot be used.
fn jobs<'a>(args: &RenderArgs, paths: &'a [PathBuf], batch: bool, reporter: &mut Reporter) -> Option<Jobs<'a>> {
    let mut jobs = Jobs { list: Vec::new(), attempted: 0 };
    for path in paths {
        let Some(envs) = variants(path, &args.profile, batch, reporter) else {
            jobs.attempted += 1;
            continue;
        };
        for env in envs {
            jobs.attempted += 1;
            match args.profile.options(env) {
                Ok(options) => jobs.list.push((path.as_path(), options)),
                Err(e) => {
                    reporter.report(&e.0);
                    return None;
                }
            }
        }
    }
    Some(jobs)
}

/// Render every job; print each profile's messages once its last
/// environment has rendered, each distinct one once. Returns the YAML
/// stream (when streaming) and what is kept of each render that
/// succeeded.
fn render_jobs(jobs: &Jobs, shape: Shape, reporter: &mut Reporter) -> (String, Vec<ProfileOutput>) {
    let mut text = String::new();
    let mut bundles = Vec::new();
    let mut messages = Messages::default();
    let mut previous: Option<&Path> = None;
    for (outcome, (path, options)) in render_all(&jobs.list, shape).into_iter().zip(&jobs.list) {
        if previous.is_some_and(|p| p != *path) {
            messages.flush(reporter);
        }
        previous = Some(path);
        messages.add(options.environment.as_deref().unwrap_or("base"), &outcome.messages);
        if let Some(bundle) = outcome.bundle {
            if text.is_empty() {
                text = outcome.yaml;
            } else {
                text.push_str(&outcome.yaml);
            }
            bundles.push(bundle);
        }
    }
    messages.flush(reporter);
    (text, bundles)
}

/// What stops the output of renders that each succeeded: a render that
/// failed (its messages are printed; of several, this says how many), an
/// object two renders make, a `--show-only` selector nothing matched.
fn all_rendered(bundles: &[ProfileOutput], attempted: usize, selectors: &[Selector]) -> Result<(), Vec<Diagnostic>> {
    if bundles.len() < attempted {
        let failed = attempted - bundles.len();
        return Err(if attempted > 1 {
            vec![Diagnostic::error(
                Code::FailedRenders,
                format!("{failed} of {attempted} renders failed; nothing was written"),
            )]
        } else {
            Vec::new()
        });
    }
    let renders: Vec<super::Rendered> =
        bundles.iter().map(|b| super::Rendered { path: &b.path, environment: &b.environment, ids: &b.ids }).collect();
    let duplicates = super::duplicate_objects(&renders);
    if !duplicates.is_empty() {
        return Err(duplicates);
    }
    // A selector must match in some render (of several profiles, one).
    let selections: Vec<&Selection> = bundles.iter().filter_map(|b| b.selection.as_ref()).collect();
    let unmatched: Vec<Diagnostic> = selectors
        .iter()
        .enumerate()
        .filter(|(i, _)| !selections.iter().any(|s| s.matched[*i]))
        .map(|(_, selector)| {
            let names: Vec<String> = selections.iter().flat_map(|s| s.names.iter().cloned()).collect();
            select::unmatched(selector, &names)
        })
        .collect();
    if unmatched.is_empty() { Ok(()) } else { Err(unmatched) }
}

/// Write every bundle into `dir` (in batch mode, a folder per app and
/// environment) as one transaction: every target is checked and every
/// file staged before any is moved into place.
fn write_out_dir(
    dir: &Path,
    bundles: &[ProfileOutput],
    batch: bool,
    include_secrets: bool,
    reporter: &mut Reporter,
) -> Exit {
    let plans = match plan_all(dir, bundles, batch, include_secrets, reporter) {
        Ok(plans) => plans,
        Err(e) => {
            reporter.report(&e.0);
            return Exit::Problems;
        }
    };
    let dirs: Vec<PathBuf> = plans.iter().map(|p| p.dir().to_path_buf()).collect();
    match out_dir::apply_all(plans) {
        Ok(reports) => {
            for (report, dir) in reports.iter().zip(&dirs) {
                for kept in &report.kept {
                    reporter.report(&[Diagnostic::warning(
                        Code::OutDir,
                        format!(
                            "kept `{kept}` in `{}`: kgen no longer renders it, and it changed since kgen wrote it",
                            dir.display()
                        ),
                    )]);
                }
            }
        }
        Err(e) => {
            reporter.report(&e.0);
            return Exit::Problems;
        }
    }
    if batch {
        let n = bundles.len();
        reporter.status(&format!("wrote {n} bundle{} into {}", if n == 1 { "" } else { "s" }, dir.display()));
    }
    Exit::Success
}

/// Plan every bundle's folder (nothing written yet); on a problem with
/// one, the plans made so far are dropped (which unlocks their folders)
/// and nothing is written.
fn plan_all(
    dir: &Path,
    bundles: &[ProfileOutput],
    batch: bool,
    include_secrets: bool,
    reporter: &mut Reporter,
) -> Result<Vec<out_dir::Plan>, crate::diagnostic::Errors> {
    let mut targets: BTreeMap<PathBuf, &ProfileOutput> = BTreeMap::new();
    let mut plans = Vec::new();
    for b in bundles {
        match plan_one(dir, b, batch, include_secrets, &mut targets, reporter) {
            Ok(plan) => plans.push(plan),
            Err(e) => {
                out_dir::drop_in_reverse(plans);
                return Err(e);
            }
        }
    }
    Ok(plans)
}

/// Plan one bundle's folder: refused if another bundle of the run writes
/// there; the Secrets left out are named in warnings.
fn plan_one<'a>(
    dir: &Path,
    b: &'a ProfileOutput,
    batch: bool,
    include_secrets: bool,
    targets: &mut BTreeMap<PathBuf, &'a ProfileOutput>,
    reporter: &mut Reporter,
) -> Result<out_dir::Plan, crate::diagnostic::Errors> {
    let target = if batch { out_dir::subdirectory(dir, &[&b.app, &b.environment])? } else { dir.to_path_buf() };
    if let Some(other) = targets.insert(target.clone(), b) {
        let hint = if other.path != b.path {
            "give the apps different `name`s"
        } else {
            "the profile is given twice, or has an environment named `base`, which is the folder of the profile without `--env`"
        };
        return Err(Diagnostic::error(
            Code::OutDir,
            format!(
                "`{}` ({}) and `{}` ({}) would both write `{}`; nothing was written",
                other.path.display(),
                other.environment,
                b.path.display(),
                b.environment,
                target.display()
            ),
        )
        .hint(hint)
        .into());
    }
    let (files, left_out) = files_for(b, include_secrets)?;
    for secret in left_out {
        reporter.report(&[Diagnostic::warning(Code::SecretLeftOut, format!(
            "{secret} was not written into `{}`: its values stay out of a directory meant for git",
            target.display()
        ))
        .hint("apply it apart (`kgen render` to stdout piped to `kubectl apply -f -`), keep it in a secret store (an ExternalSecret), or write it with --include-secrets")]);
    }
    out_dir::plan(&target, files)
}

/// A profile rendered in one environment: what is kept of it, its YAML
/// when streaming, and its diagnostics as text.
struct Outcome {
    bundle: Option<ProfileOutput>,
    yaml: String,
    messages: Vec<String>,
}

impl Outcome {
    fn failed(messages: Vec<String>) -> Outcome {
        Outcome { bundle: None, yaml: String::new(), messages }
    }
}

/// Render every job, in parallel on the machine's cores when there are
/// several; the outcomes come back in job order, so the output does not
/// depend on the number of threads.
fn render_all(jobs: &[(&Path, Options)], shape: Shape) -> Vec<Outcome> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len());
    if threads <= 1 {
        let only = jobs.len() == 1;
        return render_chunk(jobs, shape, only);
    }
    let per_thread = jobs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = jobs
            .chunks(per_thread)
            .map(|chunk| {
                // The main thread's stack, so that what renders there
                // renders here too (deep input is bounded for that stack).
                std::thread::Builder::new()
                    .stack_size(WORKER_STACK_BYTES)
                    .spawn_scoped(scope, move || render_chunk(chunk, shape, false))
            })
            .collect();
        let mut outcomes = Vec::with_capacity(jobs.len());
        for (worker, chunk) in workers.into_iter().zip(jobs.chunks(per_thread)) {
            match worker {
                Ok(w) => outcomes.extend(w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
                // No thread to be had: render this part here.
                Err(_) => outcomes.extend(render_chunk(chunk, shape, false)),
            }
        }
        outcomes
    })
}

/// A worker's stack: what Linux gives the main thread (8 MiB).
const WORKER_STACK_BYTES: usize = 8 << 20;

/// Render jobs one after the other. Consecutive jobs of one profile (its
/// environments) share one read and parse of it; what each render adds to
/// the sources is dropped once its diagnostics are rendered.
fn render_chunk(jobs: &[(&Path, Options)], shape: Shape, only: bool) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(jobs.len());
    let mut current: Option<(&Path, Result<Parsed, Vec<String>>, SourceMap)> = None;
    for (path, options) in jobs {
        if current.as_ref().is_none_or(|(p, _, _)| p != path) {
            let mut sources = SourceMap::default();
            let parsed = load::parse(path, &mut sources)
                .map_err(|e| pipeline::in_environment(e, options))
                .map_err(|e| e.0.iter().map(|d| d.render_as(&sources, shape.format)).collect());
            current = Some((path, parsed, sources));
        }
        let (_, parsed, sources) = current.as_mut().expect("set above");
        match parsed {
            Ok(parsed) => {
                let mark = sources.len();
                out.push(render_one(path, parsed, options, sources, shape, only));
                if !only {
                    sources.truncate(mark);
                }
            }
            Err(messages) => out.push(Outcome::failed(messages.clone())),
        }
    }
    if only {
        // The process ends soon: see `render_one`.
        std::mem::forget(current);
    }
    out
}

/// Render one profile in one environment. Diagnostics are rendered here,
/// against this render's own sources. When it is the process's only
/// render, what is left of it is not freed: the process ends soon and the
/// system takes the memory back at once, which saves freeing thousands of
/// small allocations one by one (about 5 % of a render).
fn render_one(
    path: &Path,
    parsed: &Parsed,
    options: &Options,
    sources: &mut SourceMap,
    shape: Shape,
    only: bool,
) -> Outcome {
    let Shape { stream, kustomize, selectors, format } = shape;
    let show = |diagnostics: &[Diagnostic], sources: &SourceMap| -> Vec<String> {
        diagnostics.iter().map(|d| d.render_as(sources, format)).collect()
    };
    let values = SecretValues::Real(&|name| std::env::var(name).ok());
    match pipeline::render_parsed_with(parsed, options, values, sources) {
        Ok(r) => {
            let messages = show(&r.warnings, sources);
            let marked = match kustomize.then(|| pipeline::render_marked(&r, sources)).transpose() {
                Ok(m) => m.map(|objects| Marked { namespace: r.app.namespace.clone(), objects }),
                Err(e) => return Outcome::failed(show(&e.0, sources)),
            };
            let Rendered { loaded, app, mut objects, warnings } = r;
            let ids = objects.iter().map(Object::id).collect();
            let selection = (!selectors.is_empty()).then(|| {
                let matched = selectors.iter().map(|s| objects.iter().any(|o| s.matches(o))).collect();
                let names = objects.iter().map(select::kubectl_name).collect();
                objects.retain(|o| selectors.iter().any(|s| s.matches(o)));
                Selection { matched, names }
            });
            let environment = loaded.environment.clone().unwrap_or_else(|| "base".into());
            let (yaml, kept, written) = if stream {
                (output::to_yaml(&objects), Vec::new(), objects)
            } else {
                (String::new(), objects, Vec::new())
            };
            let bundle = ProfileOutput {
                path: path.to_path_buf(),
                app: app.name.clone(),
                environment,
                ids,
                objects: kept,
                marked,
                selection,
            };
            let leftovers = (loaded, app, written, warnings);
            if only {
                std::mem::forget(leftovers);
            }
            Outcome { bundle: Some(bundle), yaml, messages }
        }
        Err(e) => Outcome::failed(show(&e.0, sources)),
    }
}

/// One file per object (a Secret's readable by its owner only; created
/// Secrets only when asked for, the others are returned), plus, with
/// --kustomize, the kustomization (`output::kustomize`).
fn files_for(
    b: &ProfileOutput,
    include_secrets: bool,
) -> Result<(Vec<OutFile>, Vec<String>), crate::diagnostic::Errors> {
    let (secrets, objects): (Vec<&Object>, Vec<&Object>) =
        b.objects.iter().partition(|o| o.kind() == "Secret" && o.api_version() == "v1" && !include_secrets);
    let left_out = secrets.iter().map(|o| crate::check::describe(o)).collect();
    let named: Vec<(String, &Object)> = objects.iter().map(|o| (output::file_name(o), *o)).collect();
    let mut files: Vec<OutFile> = named
        .iter()
        .map(|(name, o)| OutFile {
            name: name.clone(),
            contents: output::object_yaml(o),
            private: o.kind() == "Secret",
        })
        .collect();
    if let Some(marked) = &b.marked {
        files.extend(output::kustomize::files(&marked.namespace, &named, &marked.objects)?);
    }
    Ok((files, left_out))
}
