//! The dump source: CirrusSearch files as the streaming `pages` table.

pub mod bzip2_blocks;
pub mod decode;
pub mod input;
pub mod provider;
pub mod reader;
pub mod remote;
pub mod schema;
pub mod stats;

pub use provider::{PagesScanExec, PagesTable};
