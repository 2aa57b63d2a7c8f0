//! Build script: Tauri's context generation, plus one permission per app command so that
//! `capabilities/` can grant the window exactly the commands it uses and nothing else. The
//! commands are those declared in `surface.rs`.

macro_rules! surface {
    ($( $area:ident :: $name:ident ( $($args:tt)* ) -> $ret:ty ; )*) => {
        const COMMANDS: &[&str] = &[$(stringify!($name)),*];
    };
}

include!("surface.rs");

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/surface.rs");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
