//! The command line: clap definitions only. Doc comments are the `--help`
//! text; behaviour lives in `commands`.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::output::Format;

/// Turn an app profile into Kubernetes manifests: typed, validated,
/// deterministic, secure by default.
///
/// A profile is one YAML file that says what the app is (image, ports,
/// settings, secrets, databases, scaling, routing); kgen renders the
/// Namespace, ServiceAccount, ConfigMap, Deployment, Service and the rest,
/// hardened for the restricted Pod Security Standard.
#[derive(Debug, Parser)]
#[command(name = "kgen", version, propagate_version = true, max_term_width = 100)]
#[command(
    after_help = "Examples:\n  kgen init                                   write a starter kgen.yaml\n  kgen render profiles/clockwork.yaml --env prod | kubectl apply --server-side -f -\n  kgen render profiles/*.yaml --out-dir build/ write one folder per app and environment\n  kgen check profiles/clockwork.yaml          validate every environment"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to colour diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// How diagnostics are written to stderr: `human` (with the source
    /// line), `json` (one object a line: code, severity, message, file,
    /// line, column, field path, hints, notes), `github` (GitHub Actions
    /// annotations) or `sarif` (one SARIF 2.1.0 log, written when the
    /// command ends). Codes: docs/diagnostics.md.
    #[arg(long, global = true, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render profiles to Kubernetes manifests (YAML on stdout by default).
    #[command(
        after_help = "Examples:\n  kgen render                                   render ./kgen.yaml\n  kgen render app.yaml --env prod --set image.tag=1.10 | kubectl apply --server-side -f -\n  kgen render app.yaml -o json\n  kgen render app.yaml --env prod --out-dir build/app --kustomize"
    )]
    Render(RenderArgs),
    /// Validate profiles and their rendered objects without printing them;
    /// checks every environment unless --env is given.
    ///
    /// Besides the profile's own rules, the bundle must be consistent: every
    /// Service, PodDisruptionBudget and NetworkPolicy selects pods in it;
    /// every ConfigMap, Secret, PersistentVolumeClaim, ServiceAccount and
    /// PriorityClass a pod uses is in it or declared as existing; probes and
    /// Services name ports the containers declare; autoscalers scale a
    /// workload in it; names and labels are valid. `kgen render` runs the
    /// same checks.
    ///
    /// Secrets kgen creates get placeholder values: their environment
    /// variables need not be set, and a missing dotenv file is fine (one
    /// that exists is read for its keys). `kgen render` needs the real ones.
    Check(CheckArgs),
    /// Show what changes between two environments of a profile, or between
    /// the current render and an earlier --out-dir, object by object.
    ///
    /// Prints a unified diff (coloured on a terminal) and warns about
    /// changes `kubectl apply` rejects (immutable fields such as selectors,
    /// StatefulSet volumeClaimTemplates and serviceName, a Service's
    /// clusterIP, a RoleBinding's roleRef, a PVC's class) or that leave
    /// objects behind (removed objects, a workload that changes kind), with
    /// what to do. Exit status: 0 equal, 1 different, 2 error.
    #[command(
        after_help = "Examples:\n  kgen diff app.yaml --env dev --to-env prod       dev (old) against prod (new)\n  kgen diff app.yaml --env prod --from build/app/prod   the last render against this one"
    )]
    Diff(DiffArgs),
    /// Write a commented starter profile.
    Init(InitArgs),
    /// Print a script that runs the profile on a local kind or minikube
    /// cluster: create the cluster, load the images, install what the app
    /// needs (an ingress controller or Gateway API, cert-manager with
    /// self-signed issuers, operators' CRDs), apply, wait, port-forward.
    ///
    /// Renders the `dev` environment when the profile has one (or --env).
    #[command(
        after_help = "Examples:\n  kgen bootstrap kind profiles/clockwork.yaml | bash\n  kgen bootstrap minikube app.yaml --out-dir local/ && local/bootstrap.sh"
    )]
    Bootstrap(BootstrapArgs),
    /// Print the JSON Schema of the profile format (for editor completion).
    Schema,
    /// Print a man page (roff): `kgen man > /usr/local/share/man/man1/kgen.1`,
    /// `kgen man render` for `kgen-render.1`, or write every page with
    /// `kgen man --out-dir /usr/local/share/man/man1`.
    #[command(hide = true)]
    Man(ManArgs),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  kgen completions bash > /etc/bash_completion.d/kgen")]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The environments a profile defines, one a line (for the completion
    /// scripts).
    #[command(name = "__complete-envs", hide = true)]
    CompleteEnvs {
        /// The profile file.
        profile: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (`render` prints `kgen-render.1`);
    /// default: the page of `kgen` itself.
    #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
    pub command: Option<String>,

    /// Write every page into DIR (`kgen.1`, `kgen-render.1`, …), replacing
    /// pages of those names.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Which profile variant to render.
#[derive(Debug, Args, Clone, Default)]
pub struct ProfileArgs {
    /// Environment overlay to merge over the profile (its `environments.NAME`).
    #[arg(short, long = "env", value_name = "NAME")]
    pub env: Option<String>,

    /// An overlay file merged after the environment and before `--set`
    /// (repeatable, in order): the same fields as an environment, with
    /// `null` resets, e.g. per cluster or region, kept outside the profile.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,

    /// Override a field after the environment: `--set replicas=3`,
    /// `--set image.tag=1.10`, `--set 'settings.ALLOWED_ORIGINS=[a, b]'`.
    /// Values are typed by the profile's schema (a tag stays a string).
    /// Repeatable; `\.` is a literal dot in a key.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,

    /// The app's namespace, like `--set namespace.name=NAME` but applied
    /// last, after `--env`, `-f` and every `--set`. Every namespaced object
    /// and every text that names the namespace (URLs, alerts, dashboards)
    /// follows.
    #[arg(short = 'n', long = "namespace", value_name = "NAME")]
    pub namespace: Option<String>,

    /// An API the target cluster serves besides the built-in ones, as
    /// `group/version` or `group/version/Kind` (repeatable, or
    /// comma-separated), e.g. `monitoring.coreos.com/v1`. When given, an
    /// object of any other API is an error.
    #[arg(short = 'a', long = "api-versions", value_name = "API")]
    pub api_versions: Vec<String>,

    /// The target cluster's Kubernetes version, e.g. 1.31.
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,

    /// The directory tree that files the profile names (`extraManifests`,
    /// `fromFile`) may come from, links resolved (default: the profile's
    /// own directory). `/proc`, `/sys` and `/dev` are refused whatever it is.
    #[arg(long, value_name = "DIR")]
    pub files_root: Option<PathBuf>,
}

impl ProfileArgs {
    /// Load options for an environment (`env` overrides `--env`).
    pub fn options(&self, env: Option<String>) -> Result<crate::profile::load::Options, crate::diagnostic::Errors> {
        Ok(crate::profile::load::Options {
            environment: env,
            values: self.values.clone(),
            sets: self.sets.clone(),
            namespace: self.namespace.clone(),
            target: crate::target::Target::new(&self.api_versions, self.kube_version.as_deref())?,
            files_root: self.files_root.clone(),
        })
    }
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Profile files (default: ./kgen.yaml).
    #[arg(value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,

    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Output format on stdout.
    #[arg(short, long, value_enum, default_value_t = Format::Yaml)]
    pub output: Format,

    /// Print only this object, as KIND/NAME the way kubectl names it
    /// (`deployment/web`, `deployment.apps/web`, `deploy/web`, `svc/web`);
    /// repeatable. A selector that matches no rendered object is an error.
    /// Not with --out-dir, which owns the whole directory.
    #[arg(long = "show-only", value_name = "KIND/NAME", conflicts_with = "out_dir")]
    pub show_only: Vec<String>,

    /// Write one file per object into DIR instead of stdout. Files kgen did
    /// not write are never overwritten; files it wrote before and no longer
    /// renders are removed. With several profiles (or --batch), each
    /// profile and environment gets a folder DIR/<app>/<env>: the --env
    /// given, or else `base` and every environment the profile defines.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// With --out-dir, use the DIR/<app>/<env> layout even for one profile
    /// (for CI globs that may match a single file).
    #[arg(long, requires = "out_dir")]
    pub batch: bool,

    /// With --out-dir, also write a kustomize base over the files.
    ///
    /// kustomization.yaml lists the files, which stay what `kgen render`
    /// prints, and keeps the base working under an overlay's `namespace`,
    /// `namePrefix`/`nameSuffix` and `images`: text that names the bundle's
    /// objects or namespace (hosts, URLs, scripts, alerts, the dashboard)
    /// is written with kustomize vars, which kubectl warns are deprecated,
    /// and kgen's Jobs are named by kustomize's hash of their images.
    /// Limits: an overlay's `namespace` also moves what kgen puts in other
    /// namespaces (a ReferenceGrant: patch its namespace back one overlay
    /// up); text kgen did not write (settings, extra manifests) is not
    /// rewritten; the dashboard keeps the base's uid. README: "Overlays of a
    /// `--kustomize` base".
    #[arg(long, requires = "out_dir")]
    pub kustomize: bool,

    /// With --out-dir, also write the Secrets the profile creates (their
    /// values). Without it they are left out, since the directory is meant
    /// for git; a note names each one.
    #[arg(long, requires = "out_dir")]
    pub include_secrets: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Profile files (default: ./kgen.yaml).
    #[arg(value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,

    /// `text`: a line per profile and environment, then what the cluster
    /// must provide; `json`: the same as one JSON document, for CI.
    #[arg(short, long, value_enum, default_value_t = CheckFormat::Text)]
    pub output: CheckFormat,

    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// How `kgen check` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("against").required(true).args(["to_env", "from"])))]
pub struct DiffArgs {
    /// Profile file (default: ./kgen.yaml).
    #[arg(value_name = "PROFILE")]
    pub profile_path: Option<PathBuf>,

    /// The environment of the current render (`--env`; the old side with
    /// --to-env), and the overrides applied to every render.
    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Compare with this environment: --env (or the base) is the old side,
    /// this one the new.
    #[arg(long, value_name = "NAME")]
    pub to_env: Option<String>,

    /// Compare with the files an earlier `kgen render --out-dir` wrote (the
    /// old side) — the folder of one bundle.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,

    /// Print a summary instead of the diff: a line per changed object
    /// (added, removed or changed, with lines added and removed), then the
    /// total, like `git diff --stat`. The exit status is the same.
    #[arg(long)]
    pub stat: bool,
}

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// The local cluster tool.
    #[arg(value_enum)]
    pub cluster: crate::bootstrap::Cluster,

    /// Profile file (default: ./kgen.yaml).
    #[arg(value_name = "PROFILE")]
    pub profile_path: Option<PathBuf>,

    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Write `bootstrap.sh` (and for kind `kind-cluster.yaml`) into DIR
    /// instead of printing the script.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the profile (`-` for stdout).
    #[arg(default_value = "kgen.yaml")]
    pub path: PathBuf,

    /// The app's name.
    #[arg(long, default_value = "my-app")]
    pub name: String,

    /// The app's container image.
    #[arg(long, default_value = "ghcr.io/example/my-app:1.0.0")]
    pub image: String,

    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// How diagnostics are written (`--message-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    Human,
    Json,
    Github,
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// The one colour decision: whether to colour what goes to a stream
    /// (`terminal`: whether that stream is one). `auto` colours a terminal
    /// unless `NO_COLOR` is set.
    pub fn colors(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none() && terminal,
        }
    }
}
