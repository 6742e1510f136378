//! The one place that derives object names from the profile, one function
//! per derived name (a stable contract: renaming an object orphans the old
//! one in users' clusters). The rules names must follow are `names`'.

/// The base name of a component's objects: `<app>` for the component named
/// like the app, `<app>-<component>` otherwise.
pub fn component_object_name(app: &str, component: &str) -> String {
    if component == app { app.to_string() } else { format!("{app}-{component}") }
}

/// The claim template of every StatefulSet kgen renders.
pub const DATA_CLAIM_TEMPLATE: &str = "data";

/// The claim a StatefulSet makes from its data claim template for the pod
/// `ordinal` (a number, or a regex of numbers in PromQL):
/// `data-<statefulset>-<ordinal>`.
pub fn statefulset_claim(statefulset: &str, ordinal: &str) -> String {
    format!("{DATA_CLAIM_TEMPLATE}-{statefulset}-{ordinal}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names() {
        assert_eq!(component_object_name("shop", "shop"), "shop");
        assert_eq!(component_object_name("shop", "worker"), "shop-worker");
        assert_eq!(statefulset_claim("shop-db", "0"), "data-shop-db-0");
    }
}
