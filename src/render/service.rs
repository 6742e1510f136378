//! A component's Service: its exposed ports, selecting its pods.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{meta, selector_labels};
use crate::model::{App, Component};
use crate::object::Object;

pub fn render(app: &App, c: &Component, out: &mut Vec<Object>) {
    let Some(service) = &c.service else { return };
    let mut metadata = meta(app, &c.name, Some(&c.key));
    if !service.annotations.is_empty() {
        metadata.annotations.get_or_insert_default().extend(service.annotations.clone());
    }
    let ports = c
        .ports
        .iter()
        .filter(|p| p.expose)
        .map(|p| ServicePort {
            name: Some(p.name.clone()),
            port: i32::from(p.service_port),
            target_port: Some(IntOrString::String(p.name.clone())),
            protocol: Some(p.protocol.to_string()),
            ..Default::default()
        })
        .collect();
    out.push(
        Service {
            metadata,
            spec: Some(ServiceSpec {
                type_: Some(service.type_.to_string()),
                selector: Some(selector_labels(app, &c.key)),
                ports: Some(ports),
                ..Default::default()
            }),
            ..Default::default()
        }
        .into(),
    );
}
