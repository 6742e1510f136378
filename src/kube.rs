//! Facts of the Kubernetes API and its tools that several layers share: the
//! label and annotation keys kgen sets (the model reserves them, rendering
//! writes them, the check reads them) and the API server's size limit for
//! data. A leaf: it uses no other module of kgen.

/// The recommended label naming the application.
pub const LABEL_NAME: &str = "app.kubernetes.io/name";
/// The recommended label naming this installation of the application.
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
/// The recommended label naming a part of the application (a component).
pub const LABEL_COMPONENT: &str = "app.kubernetes.io/component";
/// The recommended label naming the tool that manages the object.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The recommended label naming the larger application this one is part of.
pub const LABEL_PART_OF: &str = "app.kubernetes.io/part-of";
/// The recommended label holding the application's version.
pub const LABEL_VERSION: &str = "app.kubernetes.io/version";

/// Argo CD's sync-wave annotation: lower waves are applied, and must be
/// healthy, before higher ones.
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";
/// Argo CD's per-object sync options.
pub const ARGO_SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";
/// Flux's switch that keeps it from garbage-collecting an object.
pub const FLUX_PRUNE: &str = "kustomize.toolkit.fluxcd.io/prune";

/// The most a ConfigMap's or a Secret's data may hold (`MaxSecretSize`).
pub const DATA_MAX_BYTES: usize = 1 << 20;
