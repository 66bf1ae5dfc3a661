//! Husk's one integration-test binary. Each area of the product is a module; shared helpers
//! (temp folders, running the `husk` binary, finding `../shared`) live in `util`.

mod util;

mod engine;
mod kernel;
mod vault;
