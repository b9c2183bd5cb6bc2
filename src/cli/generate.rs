//! `kubelstm generate`: a synthetic cluster as CSV. (being written)

use super::Outcome;
use crate::Result;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> Result<Outcome> {
    Err(crate::Error::config("generate is not implemented yet"))
}
