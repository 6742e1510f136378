//! Profile types for the app's workloads: components, images, ports,
//! probes, resources and environment variables.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::schema::{PortName, Quantity};

/// One workload of the app (a web server, a worker, …). Every component
/// shares the app's image, settings, secrets and databases unless it says
/// otherwise. Its objects are named `<app>-<component>`, or `<app>` when the
/// component is named like the app.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Component {
    /// Container image of this component; defaults to the app's `image`.
    pub image: Option<Image>,
    /// Name of the main container (default: the component's name), as
    /// `kubectl logs -c` and `kubectl set image deployment/<name>
    /// <container>=<image>` use it.
    pub container_name: Option<String>,
    /// Entrypoint override (the image's ENTRYPOINT when unset).
    #[schemars(extend("examples" = [["/app/server", "--listen", ":8080"]]))]
    pub command: Option<Vec<String>>,
    /// Arguments (the image's CMD when unset).
    pub args: Option<Vec<String>>,
    /// Ports the container listens on, by name: `http: 8080`, or
    /// `http: {port: 8080, servicePort: 80}`. Names are at most 15
    /// characters (lowercase letters, digits, `-`).
    #[schemars(extend(
        "propertyNames" = {"$ref": "#/$defs/PortName"},
        "examples" = [{"http": 8080}, {"http": {"port": 8080, "servicePort": 80}, "metrics": {"port": 9090, "expose": false}}],
    ))]
    pub ports: IndexMap<String, Port>,
    /// Health checks. With ports and no probes, TCP liveness and readiness
    /// probes on the first port are added.
    #[schemars(extend("examples" = [{"path": "/healthz"}, {"path": "/healthz", "startup": {"failureThreshold": 60}}]))]
    pub probes: Probes,
    /// Number of pods (default 1).
    #[schemars(extend("examples" = [3]))]
    pub replicas: Option<u32>,
    /// Requests and limits, or a preset name; defaults to the app's
    /// `resources`.
    pub resources: Option<Resources>,
    /// Extra environment variables of this component, merged over the app's
    /// `env`.
    pub env: IndexMap<String, EnvSource>,
    /// The Service in front of the component's ports.
    pub service: Service,
    /// Annotations on this component's pods, merged over the app's.
    pub pod_annotations: IndexMap<String, String>,
    /// Labels on this component's pods (never used in selectors).
    pub pod_labels: IndexMap<String, String>,
    /// Paths that get a writable, empty directory (the root filesystem is
    /// read-only); defaults to the app's `security.writablePaths`.
    pub writable_paths: Option<Vec<String>>,
    /// Seconds a pod gets to shut down (default 30).
    pub termination_grace_period_seconds: Option<i64>,
    /// Node labels the pods must run on.
    pub node_selector: IndexMap<String, String>,
    /// Taints the pods tolerate (Kubernetes `tolerations`).
    pub tolerations: Vec<k8s_openapi::api::core::v1::Toleration>,
    /// The databases this component uses, by key (default: all of them).
    pub databases: Option<Vec<String>>,
    /// Horizontal autoscaling (then `replicas` is left to the autoscaler).
    #[schemars(extend("examples" = [{"min": 2, "max": 10, "cpu": 70}]))]
    pub autoscaling: Option<super::Autoscaling>,
    /// The PodDisruptionBudget (default with 2 or more replicas:
    /// maxUnavailable 1).
    pub disruption_budget: Option<super::DisruptionBudget>,
    /// Spread replicas across zones and nodes (default `both` with 2 or
    /// more replicas).
    pub spread: Option<super::Spread>,
    /// PriorityClass of the pods.
    pub priority_class_name: Option<String>,
    /// Where the component serves Prometheus metrics, if it does (with
    /// `monitoring`, it is then scraped).
    pub metrics: super::Metrics,
}

/// A container image: `repository[:tag][@digest]`, or its parts.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Image {
    /// The whole reference, `registry/repository:tag@sha256:…` (the short
    /// form `image: nginx:1.27` sets this).
    pub reference: Option<String>,
    /// Registry and repository, e.g. `ghcr.io/example/clockwork`.
    pub repository: Option<String>,
    /// Tag, e.g. `"1.4.2"`; also the `app.kubernetes.io/version` label.
    pub tag: Option<String>,
    /// Digest (`sha256:…`); pins the exact image.
    pub digest: Option<String>,
    /// When the kubelet pulls the image: Always by default (a tag can move),
    /// IfNotPresent when the image is pinned by digest. Use IfNotPresent for
    /// images loaded into kind or minikube.
    pub pull_policy: Option<PullPolicy>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

/// A container port: a number, or a number with Service settings.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["port"]))]
pub struct Port {
    /// The port the container listens on.
    #[schemars(range(min = 1))]
    pub port: u16,
    /// The port the Service exposes (default: the same as `port`).
    #[schemars(range(min = 1))]
    pub service_port: Option<u16>,
    /// TCP (default), UDP or SCTP.
    pub protocol: Option<Protocol>,
    /// Whether the Service exposes this port (default true).
    pub expose: Option<bool>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum Protocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "SCTP")]
    Sctp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// Liveness, readiness and startup probes.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Probes {
    /// HTTP path checked by the liveness and readiness probes, e.g.
    /// `/healthz` (each probe can override it).
    pub path: Option<String>,
    /// Port of the probes: a port name or number (default: the first TCP
    /// port; probes connect over TCP).
    pub port: Option<PortRef>,
    /// Restarts the container when it fails.
    pub liveness: Option<Probe>,
    /// Takes the pod out of the Service while it fails.
    pub readiness: Option<Probe>,
    /// Holds the other probes off until the app has started.
    pub startup: Option<Probe>,
}

/// One probe: an HTTP GET (`path`), a command, a TCP connect or a gRPC
/// health check, with Kubernetes' timing fields.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Probe {
    /// Set to false to drop this probe.
    pub enabled: Option<bool>,
    /// HTTP GET path.
    pub path: Option<String>,
    /// Port name or number (default: the probes' port).
    pub port: Option<PortRef>,
    /// HTTP or HTTPS (default HTTP).
    pub scheme: Option<Scheme>,
    /// Run this command in the container instead of an HTTP GET.
    pub command: Option<Vec<String>>,
    /// Check that the port accepts TCP connections.
    pub tcp: Option<bool>,
    /// Use the gRPC health-checking protocol on the port.
    pub grpc: Option<bool>,
    /// Seconds to wait before the first check (liveness default 10, none
    /// when there is a startup probe).
    pub initial_delay_seconds: Option<i32>,
    /// Seconds between checks (liveness 10, readiness 5, startup 5).
    pub period_seconds: Option<i32>,
    /// Seconds a check may take (default 2).
    pub timeout_seconds: Option<i32>,
    /// Failed checks in a row that count as failure (liveness and
    /// readiness 3, startup 30).
    pub failure_threshold: Option<i32>,
    /// Passed checks in a row that count as success (1; readiness may use
    /// more).
    pub success_threshold: Option<i32>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum Scheme {
    #[serde(rename = "HTTP")]
    Http,
    #[serde(rename = "HTTPS")]
    Https,
}

/// A port given by name (`http`) or number (`8080`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl<'de> Deserialize<'de> for PortRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PortRef, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PortRef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a port name or number")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<PortRef, E> {
                u16::try_from(n)
                    .ok()
                    .filter(|&n| n > 0)
                    .map(PortRef::Number)
                    .ok_or_else(|| E::custom(format!("port {n} is out of range: ports are 1 to 65535")))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<PortRef, E> {
                self.visit_i64(i64::try_from(n).unwrap_or(-1))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<PortRef, E> {
                Ok(PortRef::Name(s.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// As `deserialize` reads it: a number of 1 to 65535, or text (a port
/// name; a quoted number is a name too, which no port has).
impl JsonSchema for PortRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PortRef".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A port given by name (`http`) or number (`8080`).",
            "anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, generator.subschema_for::<PortName>()],
        })
    }
}

/// Requests and limits (Kubernetes quantities such as `250m` and `512Mi`),
/// or a preset: nano, micro, small, medium, large, xlarge.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    /// Start from a preset; `requests` and `limits` override its values.
    pub preset: Option<Preset>,
    pub requests: Amounts,
    pub limits: Amounts,
}

/// CPU, memory and ephemeral storage amounts.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Amounts {
    /// CPU, e.g. `250m` or `1`.
    #[schemars(with = "Option<Quantity>")]
    pub cpu: Option<String>,
    /// Memory, e.g. `256Mi` or `1Gi`.
    #[schemars(with = "Option<Quantity>")]
    pub memory: Option<String>,
    /// Scratch disk, e.g. `1Gi`.
    #[schemars(with = "Option<Quantity>")]
    pub ephemeral_storage: Option<String>,
}

/// Named resource sizes (requests / limits):
/// nano 25m,32Mi / 100m,64Mi; micro 50m,64Mi / 250m,128Mi;
/// small 100m,128Mi / 500m,256Mi; medium 250m,256Mi / 1,512Mi;
/// large 500m,512Mi / 2,1Gi; xlarge 1,2Gi / 4,4Gi.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Nano,
    Micro,
    Small,
    Medium,
    Large,
    Xlarge,
}

/// An environment variable: a literal value (for values that are not
/// secret), or a reference to a key of a Secret or ConfigMap, or a pod
/// field.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvSource {
    /// A literal value (the short form `NAME: value` sets this).
    pub value: Option<String>,
    /// Read the value from this Secret, which `secrets` must declare.
    pub secret: Option<String>,
    /// Read the value from this ConfigMap.
    pub config_map: Option<String>,
    /// The key in the Secret or ConfigMap (default: the variable's name).
    pub key: Option<String>,
    /// A pod field, e.g. `metadata.name` or `status.podIP`.
    pub field: Option<String>,
    /// Whether the pod may start when the Secret or ConfigMap key is missing.
    pub optional: Option<bool>,
}

/// The Service in front of a component.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Service {
    /// Set to false for no Service even when the component has ports.
    pub enabled: Option<bool>,
    /// ClusterIP (default), NodePort or LoadBalancer.
    #[serde(rename = "type")]
    pub type_: Option<ServiceType>,
    /// Annotations on the Service (e.g. for a cloud load balancer).
    pub annotations: IndexMap<String, String>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}
