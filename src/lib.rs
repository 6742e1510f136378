pub mod diagnostic;
pub mod profile;
pub mod source;
pub mod yaml;
