//! `{{ }}` templates are JavaScript evaluated against memory.
mod common;
use common::*;
use serde_json::json;

fn render(home: &Home, v: serde_json::Value, mem: serde_json::Value) -> serde_json::Value {
    let e = home.engine();
    let r = e.renderer(&home.app("a")).unwrap();
    r.render(&v, &mem).unwrap()
}

#[test]
fn whole_value_template_keeps_its_type() {
    let home = Home::new();
    let out = render(
        &home,
        json!({ "n": "{{local.n}}", "b": " {{local.n > 1}} ", "o": "{{local}}", "s": "n={{local.n}}" }),
        json!({ "local": { "n": 42 } }),
    );
    assert_eq!(
        out,
        // Only a string that is exactly one template keeps the type
        // (spec §3.2); surrounding spaces make it embedded text.
        json!({ "n": 42, "b": " true ", "o": { "n": 42 }, "s": "n=42" })
    );
}

#[test]
fn templates_are_real_javascript() {
    let home = Home::new();
    std::fs::create_dir_all(home.app("a").join("app")).unwrap();
    let out = render(
        &home,
        json!([
            "{{[1,2,3].map(x => x * 2).join(',')}}",
            "{{/^v(\\d+)/.exec('v12')[1]}}",
            "{{Number.parseFloat('3.5') + 1}}",
            "{{typeof Date.now()}}",
            "{{Buffer.from('aGVsbG8=', 'base64').toString()}}",
            "{{encodeURIComponent('a b&c')}}",
            "{{os.platform()}}",
            "{{path.resolve(cwd, 'app').endsWith('/api/a/app')}}",
            "{{which('sh') !== null}}",
            "{{exists('app')}} {{exists('nope')}}",
            "{{gpu}} {{platform}} {{arch}}",
        ]),
        json!({}),
    );
    assert_eq!(
        out,
        json!([
            "2,4,6",
            "12",
            4.5,
            "number",
            "hello",
            "a%20b%26c",
            "linux",
            true,
            true,
            "true false",
            "none linux x64"
        ])
    );
}

#[test]
fn failing_template_is_kept_verbatim() {
    let home = Home::new();
    let out = render(
        &home,
        json!({ "later": "{{event.matches[0][1]}}", "mixed": "a {{nope.x}} b" }),
        json!({}),
    );
    assert_eq!(
        out,
        json!({ "later": "{{event.matches[0][1]}}", "mixed": "a {{nope.x}} b" })
    );
}

#[test]
fn template_syntax_error_is_precise() {
    let home = Home::new();
    let e = home.engine();
    let r = e.renderer(&home.app("a")).unwrap();
    let err = r
        .render(&json!("{{ local.( }}"), &json!({}))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("template syntax error in {{ local.( }}"),
        "{err}"
    );
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [ { method: "log", params: { text: "{{ 1 + }}" } } ] }"#,
    );
    let (res, _) = run(&e, &s, json!({}), json!({}));
    let msg = res.unwrap_err().to_string();
    assert!(
        msg.contains("s.js: step 0 (render)") && msg.contains("template syntax error"),
        "{msg}"
    );
}

#[test]
fn gpu_values_come_from_nvidia_smi_on_path() {
    let dir = tempfile::tempdir().unwrap();
    let smi = dir.path().join("nvidia-smi");
    std::fs::write(
        &smi,
        "#!/bin/sh\necho 'NVIDIA GeForce RTX 5090, 32607'\necho 'NVIDIA H100 80GB HBM3, 81559'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&smi, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Only this test changes PATH in this test binary.
    let old = std::env::var("PATH").unwrap();
    std::env::set_var("PATH", format!("{}:{old}", dir.path().display()));
    let sys = engine::SystemInfo::detect();
    std::env::set_var("PATH", old);
    assert_eq!(sys.gpu, "nvidia");
    assert_eq!(sys.gpus.len(), 2);
    assert_eq!(sys.gpus[1].model, "NVIDIA H100 80GB HBM3");
    assert_eq!(sys.vram_gib(), 32);
    let home = Home::new();
    let e = engine::Engine::new(home.path(), sys);
    let r = e.renderer(home.path()).unwrap();
    let out = r
        .render(
            &json!([
                "{{gpu}}",
                "{{gpu_model}}",
                "{{vram}}",
                "{{kernel.gpus.find(x => / 50.+/.test(x.model)).vram}}",
                "{{gpus.length}}"
            ]),
            &json!({}),
        )
        .unwrap();
    assert_eq!(
        out,
        json!(["nvidia", "nvidia geforce rtx 5090", 32, 32607, 2])
    );
}

#[test]
fn endless_loop_in_a_template_is_an_error_not_a_hang() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [ { method: "log", params: { text: "{{(() => { while (true) {} })()}}" } } ] }"#,
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("step 0 (render)") && msg.contains("endless loop"),
        "{msg}"
    );
}
