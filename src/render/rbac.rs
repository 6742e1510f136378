//! API access for the app: a Role with the profile's rules, bound to the
//! app's ServiceAccount (least privilege: only what the profile lists).

use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use super::meta;
use crate::model::App;
use crate::object::Object;

pub fn render(app: &App, out: &mut Vec<Object>) {
    if app.rbac.is_empty() {
        return;
    }
    let rules = app
        .rbac
        .iter()
        .map(|r| PolicyRule {
            api_groups: Some(r.api_groups.clone()),
            resources: Some(r.resources.clone()),
            verbs: r.verbs.clone(),
            resource_names: (!r.resource_names.is_empty()).then(|| r.resource_names.clone()),
            ..Default::default()
        })
        .collect();
    out.push(Role { metadata: meta(app, &app.name, None), rules: Some(rules) }.into());
    out.push(
        RoleBinding {
            metadata: meta(app, &app.name, None),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: app.name.clone(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: app.service_account.name.clone(),
                namespace: Some(app.namespace.clone()),
                ..Default::default()
            }]),
        }
        .into(),
    );
}
