//! The engine through the CLI: `husk sanitize` and `husk classify`, their errors and goldens.

use crate::util::*;

#[test]
fn sanitize_writes_output_for_a_plain_note() {
    let dir = tempdir();
    let note = dir.path().join("n.md");
    std::fs::write(&note, "# Title\n\nHello world.\n").unwrap();
    let out = dir.path().join("out.md");
    let o = run(husk().arg("sanitize").arg(&note).args(["--level", "light", "--output"]).arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("# Title\n"));
}
