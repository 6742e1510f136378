//! In-process cost of each stage of a render, so that regressions show:
//! parse (text → `Profile`: YAML, environment merge, deserialize), validate
//! (`Profile` → `App`), render (`App` → objects), finish (patches and the
//! consistency check), serialise (objects → YAML) and the whole chain, on
//! the full-stack profiles in their `prod` environment.
//!
//!   cargo bench --bench pipeline
//!   cargo bench --bench pipeline -- 'peer-fullstack/'   # one profile
//!
//! Whole-process timings against Helm and Kustomize are benches/compare.sh's.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use kgen::{pipeline, stages};
use stages::{Inputs, Loaded, Options, SourceMap, load_text};

/// Profiles measured (full-stack apps, by name and path), rendered with
/// `--env prod`.
const PROFILES: &[(&str, &str)] =
    &[("peer-fullstack", "benches/profiles/peer-fullstack.yaml"), ("traversion", "profiles/traversion.yaml")];

fn options() -> Options {
    Options { environment: Some("prod".into()), ..Options::default() }
}

fn read(path: &str) -> String {
    let path = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load(name: &str, text: &str) -> Loaded {
    load_text(name, text.to_string(), &options(), &mut SourceMap::default()).expect("the profile loads")
}

/// Patches and the consistency check, as `pipeline::render_loaded` runs them
/// after `render::render`.
fn finish(loaded: &Loaded, app: &stages::App, objects: &mut [stages::Object]) {
    let policy = stages::Policy::of(app, &loaded.profile);
    stages::apply_patches(loaded, objects, &Default::default(), &policy).expect("patches apply");
    let external = stages::External::of(app, &loaded.profile.external);
    assert!(stages::check(objects, &external, &policy).is_empty(), "the bundle is consistent");
    stages::sort(objects);
}

fn each_stage(c: &mut Criterion) {
    for &(profile, path) in PROFILES {
        let text = read(path);
        let loaded = load(profile, &text);
        let inputs = Inputs::default();
        let (app, _) = stages::build(&loaded, &inputs).expect("the profile is valid");
        let objects = stages::render(&app);
        let mut finished = objects.clone();
        finish(&loaded, &app, &mut finished);

        let mut group = c.benchmark_group(profile);
        group.bench_function("parse", |b| {
            b.iter(|| load_text(profile, black_box(text.clone()), &options(), &mut SourceMap::default()).unwrap())
        });
        group.bench_function("validate", |b| b.iter(|| stages::build(black_box(&loaded), &inputs).unwrap()));
        group.bench_function("render", |b| b.iter(|| stages::render(black_box(&app))));
        group.bench_function("finish (patches, check, sort)", |b| {
            b.iter_batched_ref(
                || objects.clone(),
                |objects| finish(&loaded, &app, objects),
                criterion::BatchSize::SmallInput,
            )
        });
        group.bench_function("check", |b| {
            let external = stages::External::of(&app, &loaded.profile.external);
            let policy = stages::Policy::of(&app, &loaded.profile);
            b.iter(|| stages::check(black_box(&finished), &external, &policy))
        });
        group.bench_function("serialise", |b| b.iter(|| stages::to_yaml(black_box(&finished))));
        group.bench_function("whole (text to YAML)", |b| {
            b.iter(|| {
                let mut sources = SourceMap::default();
                let loaded = load_text(profile, black_box(text.clone()), &options(), &mut sources).unwrap();
                let rendered = pipeline::render_loaded(loaded, &|_| None, &mut sources).unwrap();
                stages::to_yaml(&rendered.objects)
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = each_stage
}
criterion_main!(benches);
