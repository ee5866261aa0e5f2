//! Engine errors. Every variant names where it happened (script file, step
//! index, method) so a broken launcher reads as a precise message.

use std::path::PathBuf;

/// Everything that can end a script run, plan or menu evaluation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// The script could not be read, parsed or evaluated.
    #[error("{app}: cannot load {file}: {message}", file = .file.display())]
    Load {
        app: String,
        file: PathBuf,
        message: String,
    },
    /// The script loaded but its shape is wrong (no `run` array, step without method...).
    #[error("{app}: {file}: {message}", file = .file.display())]
    Shape {
        app: String,
        file: PathBuf,
        message: String,
    },
    /// A step failed.
    #[error("{app}: {file}: step {index} ({method}): {message}", file = .file.display())]
    Step {
        app: String,
        file: PathBuf,
        index: usize,
        method: String,
        message: String,
    },
    /// The run was stopped from outside.
    #[error("{app}: {file}: stopped", file = .file.display())]
    Stopped { app: String, file: PathBuf },
    /// A plan walked more steps than any real install does (a loop).
    #[error("{app}: {file}: plan stopped after {limit} steps (does the script loop forever?)", file = .file.display())]
    PlanLimit {
        app: String,
        file: PathBuf,
        limit: usize,
    },
    /// Anything about the engine itself (threads, I/O around the run).
    #[error("{0}")]
    Internal(String),
}

impl EngineError {
    /// Whether this error is the result of a stop request.
    pub fn is_stopped(&self) -> bool {
        matches!(self, EngineError::Stopped { .. })
    }
}

/// A method's failure, before the runner adds file/step context.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MethodError {
    #[error("{0}")]
    Failed(String),
    #[error("stopped")]
    Stopped,
    /// A nested script (`script.start`) failed; passed through unchanged.
    #[error("{0}")]
    Nested(Box<EngineError>),
}

impl MethodError {
    pub fn msg(m: impl Into<String>) -> Self {
        MethodError::Failed(m.into())
    }
}

impl From<std::io::Error> for MethodError {
    fn from(e: std::io::Error) -> Self {
        MethodError::Failed(e.to_string())
    }
}

pub type MethodResult<T = serde_json::Value> = Result<T, MethodError>;
