//! `deploy/`: the manifests name only flags the binary accepts, each file is one well-formed
//! Kubernetes object, and the Dockerfile runs the binary it builds. (No cluster or Docker
//! engine runs here; `.ci/run` builds the image's static binary and checks it has no ELF
//! interpreter.)

use std::path::Path;
use std::process::{Command, Stdio};

const EXE: &str = env!("CARGO_BIN_EXE_kubelstm");

fn manifests() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .map(|f| (f.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(f).unwrap()))
        .collect()
}

/// The `args:` list items of every container (`- serve`, `- --model=…`).
fn container_args(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() != "args:" {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let mut args = Vec::new();
        while let Some(next) = lines.peek() {
            let t = next.trim_start();
            if !t.starts_with("- ") || next.len() - t.len() < indent {
                break;
            }
            args.push(t[2..].trim().trim_matches('"').to_owned());
            lines.next();
        }
        out.push(args);
    }
    out
}

#[test]
fn manifests_are_kubernetes_objects_whose_commands_the_binary_accepts() {
    let all = manifests();
    for kind in ["Deployment", "Service", "ServiceMonitor", "CronJob", "PrometheusRule", "PersistentVolumeClaim"] {
        assert!(all.iter().any(|(_, t)| t.contains(&format!("\nkind: {kind}\n"))), "no {kind}");
    }
    let mut commands = 0;
    for (name, text) in &all {
        assert!(!text.contains('\t'), "{name}: YAML takes no tabs");
        for key in ["apiVersion: ", "kind: ", "metadata:", "  name: "] {
            assert!(text.contains(key), "{name} lacks {key}");
        }
        for args in container_args(text) {
            // Every flag is parsed before --help answers: an unknown or malformed one fails.
            let o = Command::new(EXE).args(&args).arg("--help").stdin(Stdio::null()).output().unwrap();
            assert!(o.status.success(), "{name}: kubelstm {args:?}: {}", String::from_utf8_lossy(&o.stderr));
            commands += 1;
        }
    }
    assert_eq!(commands, 2, "serve and train");
    let deployment = &all.iter().find(|(n, _)| n == "deployment.yaml").unwrap().1;
    for hardening in ["runAsNonRoot: true", "readOnlyRootFilesystem: true", "allowPrivilegeEscalation: false"] {
        assert!(deployment.contains(hardening), "deployment lacks {hardening}");
    }
    let rule = &all.iter().find(|(n, _)| n == "prometheusrule.yaml").unwrap().1;
    assert!(rule.contains("expr: kubelstm_incident_open == 1") && rule.contains("for: 5m"));
}

#[test]
fn the_images_command_runs() {
    let docker = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/Dockerfile")).unwrap();
    assert!(docker.contains("FROM scratch") && docker.contains("+crt-static"));
    // ENTRYPOINT ["/kubelstm"] with CMD ["--help"]: the binary's help.
    let o = Command::new(EXE).arg("--help").output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("serve"));
}
