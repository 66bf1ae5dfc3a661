//! Rules, lexicons and filler banks, embedded from `assets/` at build time.
