//! The command surface's outputs that live outside Rust: the TypeScript call map (written to
//! `ui/src/bindings/commands.ts`, like ts-rs writes the types) and the window's capability,
//! which must grant exactly the declared commands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::{TypeVisitor, TS};

/// A Rust type as TypeScript: its name there and the exported types it needs.
pub(crate) struct TsType {
    name: String,
    /// The exported types its name mentions → their files under the bindings folder.
    imports: BTreeMap<String, PathBuf>,
}

struct Imports(BTreeMap<String, PathBuf>);

impl TypeVisitor for Imports {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if let Some(path) = T::output_path() {
            self.0.insert(T::ident(), path);
        }
    }
}

pub(crate) fn ts_of<T: TS + 'static>() -> TsType {
    let mut v = Imports(BTreeMap::new());
    v.visit::<T>();
    T::visit_generics(&mut v);
    TsType {
        name: T::name(),
        imports: v.0,
    }
}

pub(crate) struct Entry {
    name: &'static str,
    args: TsType,
    event: TsType,
    result: TsType,
}

impl Entry {
    pub(crate) fn new<R: TS + 'static>(name: &'static str, args: TsType, event: TsType) -> Self {
        Self {
            name,
            args,
            event,
            result: ts_of::<R>(),
        }
    }
}

/// The call map: for each command, what it takes (`args`, `null` for nothing), what it streams
/// (`channel`, `null` for nothing) and what it answers.
fn typescript() -> String {
    let entries = super::typescript_entries();
    let mut imports = BTreeMap::new();
    for e in &entries {
        for t in [&e.args, &e.event, &e.result] {
            imports.extend(t.imports.clone());
        }
    }
    let mut out = String::from(
        "// This file was generated from src-tauri/surface.rs by `cargo test`. Do not edit it by hand.\n",
    );
    for (ident, path) in &imports {
        let file = path.with_extension("");
        out += &format!("import type {{ {ident} }} from \"./{}\";\n", file.display());
    }
    out += "\n/** Every command the window may call: its arguments, its event channel, its result. */\n";
    out += "export type Commands = {\n";
    for e in &entries {
        out += &format!(
            "  {}: {{ args: {}; channel: {}; result: {} }};\n",
            e.name, e.args.name, e.event.name, e.result.name
        );
    }
    out += "};\n\nexport type Command = keyof Commands;\n";
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Writes the call map beside the ts-rs bindings (`make test` then checks it is committed).
#[test]
fn export_the_typescript_call_map() {
    let dir = std::env::var("TS_RS_EXPORT_DIR").expect("set in .cargo/config.toml");
    let path = Path::new(&dir).join("commands.ts");
    let text = typescript();
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&path, text).expect("write commands.ts");
    }
}

#[test]
fn every_command_is_declared_once_and_typed() {
    let mut seen = std::collections::HashSet::new();
    for name in super::COMMANDS {
        assert!(seen.insert(name), "{name} is declared twice");
    }
    let ts = typescript();
    assert!(ts.contains("  sign_in: { args: SignInArgs; channel: null; result: AuthStatus };"));
    assert!(ts.contains(
        "  chat_start: { args: ChatStartArgs; channel: ChatEvent; result: ChatStarted };"
    ));
    assert!(ts.contains("  app_info: { args: null; channel: null; result: AppInfo };"));
    assert!(ts.contains("import type { ChatEvent } from \"./ChatEvent\";"));
}

/// The window is granted exactly the declared commands: nothing more (no core or plugin
/// permission), nothing less (a command the UI could not call).
#[test]
fn the_capability_grants_exactly_the_declared_commands() {
    let text = std::fs::read_to_string(root().join("capabilities/main.json")).unwrap();
    let cap: serde_json::Value = serde_json::from_str(&text).unwrap();
    let granted: Vec<String> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().expect("plain permission names").to_string())
        .collect();
    let declared: Vec<String> = super::COMMANDS
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    assert_eq!(
        granted, declared,
        "capabilities/main.json must list the commands of surface.rs, in order"
    );
}
