//! The Colab/Jupyter launcher notebook: valid nbformat, its code parses as
//! Python, and it reads the exact lines `pinokiocloud serve` prints.

use std::io::Write;
use std::process::{Command, Stdio};

fn notebook() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../notebooks/PinokioCloud.ipynb"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn code() -> String {
    let nb = notebook();
    let cells = nb["cells"].as_array().unwrap();
    let code: Vec<_> = cells.iter().filter(|c| c["cell_type"] == "code").collect();
    assert_eq!(code.len(), 1, "one cell installs and starts everything");
    code[0]["source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect()
}

#[test]
fn notebook_is_nbformat_4_with_one_python_cell_that_parses() {
    assert_eq!(notebook()["nbformat"], 4);
    let mut python = Command::new("python3")
        .args(["-c", "import ast, sys; ast.parse(sys.stdin.read())"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    python
        .stdin
        .take()
        .unwrap()
        .write_all(code().as_bytes())
        .unwrap();
    assert!(
        python.wait().unwrap().success(),
        "the notebook cell is not valid Python"
    );
}

#[test]
fn notebook_reads_the_lines_the_server_prints() {
    let code = code();
    let serve = include_str!("../src/serve.rs");
    for printed in ["Sign in (admin):", "Tunnel ("] {
        assert!(
            code.contains(printed),
            "the notebook no longer looks for {printed:?}"
        );
        assert!(
            serve.contains(printed),
            "the server no longer prints {printed:?}"
        );
    }
    for flag in ["--port", "--tunnel", "--home"] {
        assert!(code.contains(flag), "{flag}");
    }
    assert!(code.contains("PINOKIOCLOUD_PASSWORD"));
}
