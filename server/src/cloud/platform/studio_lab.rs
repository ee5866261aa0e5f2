//! Amazon SageMaker Studio Lab.
//!
//! Markers: the fixed user `studio-lab-user` (`USER`/`NB_USER`) or its home
//! `HOME=/home/studio-lab-user`, which is the persistent 15 GB project
//! storage. Studio Lab publishes no ports.

use super::{Exposure, HomeChoice, Platform, PlatformId};
use crate::cloud::env::Env;
use std::path::PathBuf;

const USER: &str = "studio-lab-user";
const HOME: &str = "/home/studio-lab-user";

pub fn detect(env: &dyn Env) -> Option<Box<dyn Platform>> {
    let user_is = |name: &str| env.var(name).as_deref() == Some(USER);
    let marked = user_is("USER") || user_is("NB_USER") || env.var("HOME").as_deref() == Some(HOME);
    marked.then(|| Box::new(StudioLab::from_env(env)) as Box<dyn Platform>)
}

#[derive(Debug)]
pub struct StudioLab;

impl StudioLab {
    pub fn from_env(_env: &dyn Env) -> Self {
        StudioLab
    }
}

impl Platform for StudioLab {
    fn id(&self) -> PlatformId {
        PlatformId::SagemakerStudioLab
    }

    fn name(&self) -> &'static str {
        "SageMaker Studio Lab"
    }

    fn home(&self) -> HomeChoice {
        HomeChoice {
            path: PathBuf::from(HOME).join("pinokio"),
            persistent: true,
            persistent_alternative: None,
            note: Some("Studio Lab keeps 15 GB per user; large models fill it quickly".into()),
        }
    }

    fn exposure(&self, _port: u16) -> Exposure {
        Exposure {
            public_url: None,
            warnings: vec![
                "SageMaker Studio Lab publishes no ports; start a tunnel to reach the dashboard"
                    .into(),
            ],
            ssh_hint: None,
        }
    }
}
