//! The scenario's API server: `entrypoints/api-server.py` on the
//! `kubernetes` Service address (10.96.0.1:443) in the cluster namespace,
//! with TLS from a CA made for the scenario (openssl), which pods get as
//! `kube-root-ca.crt`. Tokens in projected volumes are JWT-shaped and name
//! their ServiceAccount; the server allows what the bundle's Roles and
//! RoleBindings grant on `secrets`, and nothing else. Secrets created
//! through it land in the store directory, where the node reads them like
//! Secrets that exist in the cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::bundle::Bundle;
use super::net::Network;
use super::process::run_checked;

const SERVER: &str = include_str!("entrypoints/api-server.py");
/// The names the API server's certificate is valid for.
const NAMES: &[&str] =
    &["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"];

pub struct ApiServer {
    dir: PathBuf,
    ca: String,
}

impl ApiServer {
    /// Make the CA and the serving certificate, write the RBAC grants of
    /// `bundle`, and start the server on `ip:443` in the cluster namespace.
    pub fn start(dir: &Path, ip: &str, bundle: &Bundle, network: &mut Network) -> ApiServer {
        std::fs::create_dir_all(dir.join("secrets")).unwrap();
        let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let openssl = |args: &[&str]| run_checked(Command::new("openssl").args(args));
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        openssl(
            &[&["req", "-x509"], &ec[..], &["-keyout", &file("ca.key"), "-out", &file("ca.crt")]]
                .concat()
                .into_iter()
                .chain(["-days", "2", "-subj", "/CN=kgen-runtime-tests-ca"])
                .collect::<Vec<_>>(),
        );
        let names: Vec<String> = NAMES.iter().map(|n| format!("DNS:{n}")).chain([format!("IP:{ip}")]).collect();
        let san = format!("subjectAltName={}", names.join(","));
        openssl(
            &[&["req"], &ec[..], &["-keyout", &file("server.key"), "-out", &file("server.crt")]]
                .concat()
                .into_iter()
                .chain(["-CA", &file("ca.crt"), "-CAkey", &file("ca.key"), "-days", "2"])
                .chain(["-subj", "/CN=kube-apiserver", "-addext", &san])
                .collect::<Vec<_>>(),
        );
        let config = json!({
            "listen": ip,
            "port": 443,
            "cert": file("server.crt"),
            "key": file("server.key"),
            "store": file("secrets"),
            "grants": grants(bundle),
        });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        std::fs::write(dir.join("api-server.py"), SERVER).unwrap();
        let mut python = Command::new("setpriv");
        python
            .args(["--pdeathsig", "KILL", "--", "python3", "-u"])
            .arg(dir.join("api-server.py"))
            .arg(dir.join("config.json"));
        network.spawn(python, &dir.join("requests.log"));
        network.wait_listening(&[(ip.to_string(), 443)]);
        let ca = std::fs::read_to_string(dir.join("ca.crt")).unwrap();
        ApiServer { dir: dir.to_path_buf(), ca }
    }

    /// The CA certificate (PEM): `kube-root-ca.crt`'s `ca.crt`.
    pub fn ca(&self) -> &str {
        &self.ca
    }

    /// The Secrets created through the API: name → key → value.
    pub fn secrets(&self) -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
        let mut out = BTreeMap::new();
        for entry in std::fs::read_dir(self.dir.join("secrets")).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let secret: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let data = secret["data"].as_object().cloned().unwrap_or_default();
            let data = data
                .into_iter()
                .map(|(k, v)| (k, STANDARD.decode(v.as_str().unwrap_or_default()).expect("stored data is base64")))
                .collect();
            out.insert(secret["metadata"]["name"].as_str().unwrap().to_string(), data);
        }
        out
    }

    /// Create a Secret as its user would (`kubectl create secret`).
    pub fn create_secret(&self, name: &str, data: &BTreeMap<String, Vec<u8>>) {
        let data: serde_json::Map<String, Value> =
            data.iter().map(|(k, v)| (k.clone(), STANDARD.encode(v).into())).collect();
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data});
        std::fs::write(self.dir.join("secrets").join(format!("{name}.json")), secret.to_string()).unwrap();
    }

    /// The requests served so far, one line each: `METHOD PATH -> STATUS (account)`.
    pub fn requests(&self) -> Vec<String> {
        let log = super::process::read_lossy(&self.dir.join("requests.log"));
        log.lines().filter(|l| l.contains(" -> ")).map(str::to_string).collect()
    }
}

/// A projected service-account token for a pod: JWT-shaped, its payload
/// naming the account (the signature is not checked).
pub fn token(namespace: &str, service_account: &str, pod: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"kgen-runtime-tests"}"#);
    let claims = json!({
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": format!("system:serviceaccount:{namespace}:{service_account}"),
        "kubernetes.io": {"namespace": namespace, "pod": {"name": pod}, "serviceaccount": {"name": service_account}},
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.c2lnbmF0dXJl")
}

/// `namespace/serviceaccount` → namespace → the verbs on core `secrets`
/// there that the bundle's RoleBindings give it through Roles (ClusterRoles
/// are not emulated: nothing is granted through them).
fn grants(bundle: &Bundle) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let kind = |item: &Value, k: &str| item["kind"].as_str() == Some(k);
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for binding in bundle.items.iter().filter(|i| kind(i, "RoleBinding")) {
        let namespace = binding["metadata"]["namespace"].as_str().unwrap_or("default");
        if binding["roleRef"]["kind"].as_str() != Some("Role") {
            continue;
        }
        let role_name = binding["roleRef"]["name"].as_str();
        let role = bundle.items.iter().find(|i| {
            kind(i, "Role")
                && i["metadata"]["name"].as_str() == role_name
                && i["metadata"]["namespace"].as_str().unwrap_or("default") == namespace
        });
        let Some(role) = role else { continue };
        let mut verbs = vec![];
        for rule in role["rules"].as_array().into_iter().flatten() {
            let has = |field: &str, value: &str| {
                rule[field].as_array().is_some_and(|a| a.iter().any(|v| v == value || v == "*"))
            };
            if has("apiGroups", "") && has("resources", "secrets") && rule["resourceNames"].is_null() {
                verbs.extend(
                    rule["verbs"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).map(String::from),
                );
            }
        }
        for subject in binding["subjects"].as_array().into_iter().flatten() {
            if subject["kind"].as_str() == Some("ServiceAccount") {
                let ns = subject["namespace"].as_str().unwrap_or(namespace);
                let account = format!("{ns}/{}", subject["name"].as_str().unwrap_or_default());
                out.entry(account).or_default().entry(namespace.to_string()).or_default().extend(verbs.iter().cloned());
            }
        }
    }
    out
}
