//! Everything a run leaves on disk: the run folder, the model file, atomic writes.
//!
//! Nothing is ever half-written where a reader could take it for complete: every file is
//! written under a temporary name and renamed into place, and a run folder counts as
//! finished only once its status file (written last) says so.

pub mod atomic;
pub mod bounded;
pub mod model_file;
pub mod names;
pub mod run_folder;

pub use atomic::{atomic_destination, sync_dir, write_atomic, write_atomic_with, write_json_atomic, AtomicFile};
pub use bounded::{read_bounded, read_bounded_string};
pub use model_file::{load_model, save_model, LoadedModel, ModelMeta, ModelPipeline, FORMAT_VERSION};
pub use names::STATUS_FILE;
pub use run_folder::{RunFolder, RunStatus, StatusInfo};
