//! The profile's escape hatches, applied after rendering and before the
//! bundle's consistency check: `extraManifests` (objects the profile adds,
//! [`extra_manifests`]) and `patches` (changes to rendered objects,
//! [`patch`]). Both are held to `check::api`, the plain-text rule and the
//! `check::Policy`, and every problem is located in the profile or the
//! extra file.

pub(crate) mod extra_manifests;
pub(crate) mod patch;
