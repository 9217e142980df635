//! Plans a reviewer can trust: what an update of a stack would do, worked
//! out from the deployed and the desired template without calling AWS.

pub mod create_only;
