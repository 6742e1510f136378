//! CloudNativePG (`postgresql.cnpg.io/v1`): a `Cluster` of PostgreSQL
//! instances run by the operator, and its `ScheduledBackup` through the
//! Barman Cloud Plugin.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use serde::{Deserialize, Serialize};

use super::custom_resource;

/// The plugin that archives WAL and takes base backups to object storage
/// (it replaces the deprecated in-tree `barmanObjectStore`).
pub const BARMAN_PLUGIN: &str = "barman-cloud.cloudnative-pg.io";

custom_resource!(
    /// A PostgreSQL cluster: one primary and streaming replicas.
    Cluster, ClusterSpec, group = "postgresql.cnpg.io", version = "v1", plural = "clusters"
);

custom_resource!(
    /// A schedule of base backups of a Cluster.
    ScheduledBackup, ScheduledBackupSpec, group = "postgresql.cnpg.io", version = "v1", plural = "scheduledbackups"
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    pub instances: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_name: Option<String>,
    pub postgresql: PostgresConfiguration,
    pub bootstrap: Bootstrap,
    pub storage: StorageConfiguration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub plugins: Vec<PluginConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_superuser_access: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostgresConfiguration {
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub parameters: BTreeMap<String, String>,
    /// Snake case in the CRD, unlike its neighbours.
    #[serde(rename = "shared_preload_libraries", skip_serializing_if = "Vec::is_empty", default)]
    pub shared_preload_libraries: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bootstrap {
    pub initdb: InitDb,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InitDb {
    pub database: String,
    pub owner: String,
    #[serde(rename = "postInitApplicationSQL", skip_serializing_if = "Vec::is_empty", default)]
    pub post_init_application_sql: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageConfiguration {
    pub size: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginConfiguration {
    pub name: String,
    #[serde(rename = "isWALArchiver", skip_serializing_if = "Option::is_none")]
    pub is_wal_archiver: Option<bool>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub parameters: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduledBackupSpec {
    /// Six fields: seconds first.
    pub schedule: String,
    pub cluster: LocalObjectReference,
    pub method: String,
    pub plugin_configuration: PluginReference,
    pub backup_owner_reference: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalObjectReference {
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginReference {
    pub name: String,
}
