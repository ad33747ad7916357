//! The voice models: the built-in `default`, the trained ones (kept in `models.json`, see
//! [`crate::store`]), and the names reserved by trainings still running (so that a second
//! training of a name fails at once).

use std::collections::HashMap;

use singing_cloning::{ListModelsResponse, Model};

use crate::audio::cloning;
use crate::audio::profile::VoiceProfile;
use crate::store::{ModelRecord, ModelsFile};

/// The model that always exists.
pub const DEFAULT_MODEL: &str = "default";

/// The in-memory registry of the models, in the order ListModels gives them: `default`
/// first, then by training time.
#[derive(Debug, Clone)]
pub struct ModelRegistry {
    default_created_at: String,
    trained: Vec<ModelRecord>,
    /// Model name → the training job that will create it.
    reserved: HashMap<String, String>,
}

impl ModelRegistry {
    /// The models of `models.json`, none reserved.
    pub fn from_file(file: ModelsFile) -> Self {
        ModelRegistry { default_created_at: file.default_created_at, trained: file.models, reserved: HashMap::new() }
    }

    /// What `models.json` keeps: the trained models, not the reserved names.
    pub fn to_file(&self) -> ModelsFile {
        ModelsFile { default_created_at: self.default_created_at.clone(), models: self.trained.clone() }
    }

    /// The profile of the model `name`.
    pub fn profile(&self, name: &str) -> Option<VoiceProfile> {
        if name == DEFAULT_MODEL {
            return Some(cloning::default_profile());
        }
        self.trained.iter().find(|m| m.name == name).map(|m| m.profile.clone())
    }

    /// Whether `name` is taken: an existing model, or one a running training will create.
    pub fn is_taken(&self, name: &str) -> bool {
        name == DEFAULT_MODEL || self.reserved.contains_key(name) || self.trained.iter().any(|m| m.name == name)
    }

    /// Takes `name` for the model that the training job `job_id` will create.
    pub fn reserve(&mut self, name: &str, job_id: &str) {
        self.reserved.insert(name.to_string(), job_id.to_string());
    }

    /// Frees the names reserved by the job `job_id` (it ended without creating them).
    pub fn release(&mut self, job_id: &str) {
        self.reserved.retain(|_, job| job != job_id);
    }

    /// Adds a trained model, freeing its reserved name.
    pub fn add(&mut self, record: ModelRecord) {
        self.reserved.remove(&record.name);
        self.trained.push(record);
    }

    /// Every model with its profile, `default` first.
    pub fn all(&self) -> Vec<ModelRecord> {
        let default = ModelRecord {
            name: DEFAULT_MODEL.into(),
            created_at: self.default_created_at.clone(),
            job_id: String::new(),
            profile: cloning::default_profile(),
        };
        std::iter::once(default).chain(self.trained.iter().cloned()).collect()
    }

    /// One ListModels page.
    pub fn page(&self, offset: u32, limit: u32) -> ListModelsResponse {
        let all = self.all();
        let models = all
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|m| Model { name: m.name.clone(), created_at: m.created_at.clone() })
            .collect();
        ListModelsResponse { total: all.len() as u64, models }
    }
}
