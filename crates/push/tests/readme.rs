//! The README's endpoint table is the one generated from `esl_push::api::ENDPOINTS`.

const BEGIN: &str = "<!-- endpoints:begin -->\n";
const END: &str = "<!-- endpoints:end -->";

#[test]
fn readme_table_matches_the_endpoint_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let start = readme.find(BEGIN).expect("begin marker") + BEGIN.len();
    let end = readme.find(END).expect("end marker");
    let table = esl_push::api::markdown_table();
    if std::env::var_os("ESL_BLESS").is_some() {
        let new = format!("{}{table}{}", &readme[..start], &readme[end..]);
        std::fs::write(path, new).unwrap();
        return;
    }
    assert_eq!(
        &readme[start..end],
        table,
        "crates/push/README.md is out of date: run ESL_BLESS=1 cargo test -p esl-push --test readme"
    );
}
