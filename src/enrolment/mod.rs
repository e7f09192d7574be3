//! What navigators, the API and the CLI do to a client's plan through the runner: enrol them in
//! a sequence, pause, resume, move or cancel a step (`actions`), record their best time of day
//! (`best_time`), apply a level of support (`support`), and preview a sequence on a virtual
//! clock (`simulate`). The schedule's pure parts (sequences, local time) and its job rows live
//! below the runner, in `schedule` and `store::jobs`; the loop that takes due jobs in `loops`.

pub mod actions;
pub mod best_time;
pub mod simulate;
pub mod support;
