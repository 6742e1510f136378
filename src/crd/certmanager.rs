//! cert-manager (`cert-manager.io/v1`): a namespaced `Issuer` for the
//! app's certificates (Let's Encrypt through HTTP-01, or self-signed for
//! local clusters).

use serde::{Deserialize, Serialize};

use super::custom_resource;

custom_resource!(
    /// Issues certificates for Ingresses in its namespace.
    Issuer, IssuerSpec, group = "cert-manager.io", version = "v1", plural = "issuers"
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuerSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acme: Option<AcmeIssuer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub self_signed: Option<SelfSignedIssuer>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcmeIssuer {
    pub server: String,
    pub email: String,
    pub private_key_secret_ref: SecretKeySelector,
    pub solvers: Vec<AcmeSolver>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeySelector {
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcmeSolver {
    pub http01: Http01Solver,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Http01Solver {
    pub ingress: Http01Ingress,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Http01Ingress {
    pub ingress_class_name: String,
}

/// An empty object: `selfSigned: {}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfSignedIssuer {}
