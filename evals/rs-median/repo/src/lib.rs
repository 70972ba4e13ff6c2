//! Summary statistics for response-time samples (milliseconds).

pub fn mean(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    Some(samples.iter().sum::<f64>() / samples.len() as f64)
}

fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).expect("samples must not be NaN"));
    v
}

/// The middle value; for an even number of samples, the mean of the two
/// middle ones. `None` when there are no samples.
pub fn median(samples: &[f64]) -> Option<f64> {
    let v = sorted(samples);
    let mid = v.len() / 2;
    Some(v[mid])
}

/// Nearest-rank percentile, `p` in 0..=100. `None` when there are no samples.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let v = sorted(samples);
    let rank = (p / 100.0 * v.len() as f64).ceil() as usize;
    Some(v[rank.max(1) - 1])
}
