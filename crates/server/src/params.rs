//! Request fields chat and text completions share: sampling, stop
//! sequences, `n`, and the checks on them.

use std::sync::Arc;

use suit_model::{Model, Priority, Sampling};
use suit_protocol::openai::Stop;

use crate::error::ApiError;
use crate::{ids, AppState};

/// Most choices one request may ask for.
pub const MAX_CHOICES: u32 = 16;

/// The stop sequences of `stop`, empty ones left out.
fn stop_sequences(stop: Stop) -> Vec<String> {
    match stop {
        Stop::One(s) => vec![s],
        Stop::Many(v) => v,
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

/// The sampling fields of a request, as sent.
#[derive(Debug, Clone, Default)]
pub struct SamplingFields {
    /// Most tokens to generate.
    pub max_tokens: Option<u32>,
    /// Chat's newer name for `max_tokens`.
    pub max_completion_tokens: Option<u32>,
    /// 0 to 2; OpenAI's default is 1.
    pub temperature: Option<f32>,
    /// Nucleus sampling, (0, 1].
    pub top_p: Option<f32>,
    /// Seed for repeatable sampling.
    pub seed: Option<i64>,
    /// Stop sequences.
    pub stop: Option<Stop>,
    /// Choices to generate.
    pub n: Option<u32>,
}

impl SamplingFields {
    /// Checks the fields and turns them into the sampling of each of the `n`
    /// choices: choice `i` samples with seed `seed + i`, so sampled choices
    /// differ and a request with a seed repeats.
    pub fn samplings(&self, model: &dyn Model) -> Result<Vec<Sampling>, ApiError> {
        let n = self.n.unwrap_or(1);
        if n == 0 || n > MAX_CHOICES {
            return Err(ApiError::invalid(
                Some("n".into()),
                format!("`n` is {n}; it must be between 1 and {MAX_CHOICES}."),
            ));
        }
        let temperature = self.temperature.unwrap_or(1.0);
        if !(0.0..=2.0).contains(&temperature) {
            return Err(ApiError::invalid(
                Some("temperature".into()),
                format!("`temperature` is {temperature}; it must be between 0 and 2."),
            ));
        }
        let top_p = self.top_p.unwrap_or(1.0);
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(ApiError::invalid(
                Some("top_p".into()),
                format!("`top_p` is {top_p}; it must be greater than 0 and at most 1."),
            ));
        }
        let max_tokens = match self.max_completion_tokens.or(self.max_tokens) {
            Some(0) => {
                return Err(ApiError::invalid(
                    Some("max_tokens".into()),
                    "`max_tokens` is 0; ask for at least 1 token.",
                ))
            }
            Some(max) => max,
            // Until the model stops or its window is full.
            None => model.context_size().map_or(4096, |c| c.min(u32::MAX as usize) as u32),
        };
        let stop = self.stop.clone().map(stop_sequences).unwrap_or_default();
        // Wire seeds are 64-bit; the engine's are 32: keep the low bits.
        let seed = self.seed.map_or_else(|| ids::random_u64() as u32, |s| s as u32);
        Ok((0..n)
            .map(|i| Sampling {
                temperature,
                top_p,
                seed: seed.wrapping_add(i),
                stop: stop.clone(),
                max_tokens,
            })
            .collect())
    }
}

/// The priority OpenAI's `service_tier` asks for: `flex` (cheaper, slower
/// processing) is batch work, anything else interactive.
pub fn priority(service_tier: Option<&str>) -> Priority {
    match service_tier {
        Some("flex") => Priority::Batch,
        _ => Priority::Interactive,
    }
}

/// The model for chat and text completions, if the request names it.
pub fn generation_model(state: &AppState, name: &str) -> Result<Arc<dyn Model>, ApiError> {
    let served = &state.models.generation;
    if served.answers_to(name) {
        Ok(served.model.clone())
    } else {
        Err(ApiError::model_not_found(name, &served.id))
    }
}

/// The model for embeddings, if the request names it.
pub fn embedding_model(state: &AppState, name: &str) -> Result<Arc<dyn Model>, ApiError> {
    let served = state.models.embedder();
    if served.answers_to(name) {
        Ok(served.model.clone())
    } else {
        Err(ApiError::model_not_found(name, &served.id))
    }
}
