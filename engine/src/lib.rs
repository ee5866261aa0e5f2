//! The Pinokio script runtime. It evaluates launcher scripts headless and
//! knows nothing of HTTP or SQL: the server drives it through events.
