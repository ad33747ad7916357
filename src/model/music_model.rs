//! The model resource (`/release/music_model`): ListModels.

use serde::{Deserialize, Serialize};

#[cfg(feature = "js")]
use tsify::Tsify;

/// The only `listModelsRequest.type` the reference defines.
pub const LIST_MODELS_TYPE: u32 = 2;

/// The most models one ListModels page holds.
pub const MAX_LIST_MODELS_LIMIT: u32 = 100;

/// `listModelsRequest`: one page of the trained models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
pub struct ListModelsRequest {
    pub offset: u32,
    /// 1 to 100.
    pub limit: u32,
    /// Always 2.
    #[serde(rename = "type")]
    pub kind: u32,
}

impl ListModelsRequest {
    pub fn new(offset: u32, limit: u32) -> Self {
        ListModelsRequest { offset, limit, kind: LIST_MODELS_TYPE }
    }
}

/// `listModelsResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
pub struct ListModelsResponse {
    /// How many models there are in all, not on this page.
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub models: Vec<Model>,
}

/// A voice model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Model {
    pub name: String,
    /// Milliseconds since the epoch, as a string.
    #[serde(default)]
    pub created_at: String,
}
