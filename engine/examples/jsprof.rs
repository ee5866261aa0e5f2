use serde_json::json;
fn main() {
    let home = tempfile::tempdir().unwrap();
    let engine = engine::Engine::new(home.path().to_path_buf(), engine::SystemInfo::detect());
    let r = engine.renderer(home.path()).unwrap();
    let n: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let what = std::env::args().nth(2).unwrap();
    let expr = match what.as_str() {
        "stringify" => format!("{{{{ (()=>{{let s=0; const o={{step:{{method:'local.set',params:{{k2:'2-0-0' }} }} ,when:null,inline:false }} ; for(let i=0;i<{n};i++) s+=JSON.stringify(o).length; return s }} )() }}}}"),
        "keys" => format!("{{{{ (()=>{{let s=0; const o={{method:'local.set',params:{{k2:'2-0-0' }} }} ; for(let i=0;i<{n};i++) s+=Object.keys(o).length; return s }} )() }}}}"),
        "forin" => format!("{{{{ (()=>{{let s=0; const o={{method:'local.set',params:{{k2:'2-0-0' }} }} ; for(let i=0;i<{n};i++) {{ for (const k in o) s+=1 }} return s }} )() }}}}"),
        "forof" => format!("{{{{ (()=>{{let s=0; const a=[1,2,3]; for(let i=0;i<{n};i++) {{ for (const k of a) s+=k }} return s }} )() }}}}"),
        "forindex" => format!("{{{{ (()=>{{let s=0; const a=[1,2,3]; for(let i=0;i<{n};i++) {{ for (let j=0;j<a.length;j++) s+=a[j] }} return s }} )() }}}}"),
        _ => format!("{{{{ (()=>{{let s=0; for(let i=0;i<{n};i++) s+=i; return s }} )() }}}}"),
    };
    r.render(&json!(expr), &json!({})).unwrap();
}
