//! One module per command group. Each function is thin glue over `husk-core`.

pub mod io;
pub mod sanitize;
pub mod vault;
