//! placeholder until the escape suite lands
