//! Writes the scaled input windows of a data file, and kubelstm's scores for them, as a
//! safetensors file, so another implementation (PyTorch: see docs/model-format.md) can be
//! checked against kubelstm on the same inputs.
//!
//!     cargo run --release --example export_windows -- RUN_DIR metrics.csv windows.safetensors [N]
//!
//! Output tensors: `x` `[N, T, F]` f32 (batch first, oldest row first, scaled exactly as
//! `detect` scales them) and `score` `[N]` f32; the first `N` (default 256) scoring windows.

use std::path::PathBuf;
use std::process::ExitCode;

use kubelstm::data::WindowIndex;
use kubelstm::detect::batch::load_for_scoring;
use kubelstm::detect::ScoringModel;
use safetensors::tensor::{Dtype, TensorView};

fn run(args: &[String]) -> kubelstm::Result<String> {
    let [run_dir, data, out, rest @ ..] = args else {
        return Err(kubelstm::Error::config("usage: export_windows RUN_DIR DATA.csv OUT.safetensors [N]"));
    };
    let limit: usize = match rest.first() {
        Some(n) => n.parse().map_err(|_| kubelstm::Error::config(format!("N must be a number, got {n}")))?,
        None => 256,
    };
    let model = ScoringModel::load(&PathBuf::from(run_dir))?;
    let file = std::fs::File::open(data).map_err(|e| kubelstm::Error::io("open", data, e))?;
    let dataset = load_for_scoring(file, data, &model, false)?;
    let (t, f) = (model.steps(), model.features());
    let index = WindowIndex::scoring(&dataset.series, t, model.label_at());
    let n = index.len().min(limit);
    let ids: Vec<usize> = (0..n).collect();
    let mut x_tbf = vec![0.0f32; t * n * f]; // (T, N, F), what the scorer takes
    index.gather(&dataset.series, f, &ids, &mut x_tbf);
    let mut scores = vec![0.0f32; n];
    model.scorer().score(&x_tbf, t, n, &mut scores, None);
    let mut x_ntf = vec![0.0f32; n * t * f]; // (N, T, F), batch first for PyTorch
    for step in 0..t {
        for b in 0..n {
            x_ntf[(b * t + step) * f..(b * t + step + 1) * f]
                .copy_from_slice(&x_tbf[(step * n + b) * f..(step * n + b + 1) * f]);
        }
    }
    let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let (xb, sb) = (bytes(&x_ntf), bytes(&scores));
    let tensors = vec![("x", view(vec![n, t, f], &xb)?), ("score", view(vec![n], &sb)?)];
    let encoded = safetensors::serialize(tensors, None).map_err(|e| kubelstm::Error::data(format!("encoding: {e}")))?;
    std::fs::write(out, encoded).map_err(|e| kubelstm::Error::io("write", out, e))?;
    Ok(format!("wrote {n} windows (T = {t}, F = {f}) and their scores to {out}"))
}

fn view(shape: Vec<usize>, data: &[u8]) -> kubelstm::Result<TensorView<'_>> {
    TensorView::new(Dtype::F32, shape, data).map_err(|e| kubelstm::Error::data(format!("encoding: {e}")))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(msg) => {
            eprintln!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", kubelstm::cli::error_chain(&e));
            ExitCode::from(2)
        }
    }
}
