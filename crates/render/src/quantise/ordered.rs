//! Threshold maps for ordered dithering: Bayer matrices and a blue-noise map made by
//! void-and-cluster.

use std::sync::OnceLock;

use super::color;

/// A square threshold map: `ranks` holds each cell's rank, `0..size²`, row by row.
pub(crate) struct ThresholdMap {
    size: usize,
    /// Thresholds in `(0, 1)`: `(rank + 0.5) / size²`, row by row.
    thresholds: Vec<f32>,
}

impl ThresholdMap {
    fn from_ranks(size: usize, ranks: &[u32]) -> ThresholdMap {
        let n = (size * size) as f32;
        ThresholdMap {
            size,
            thresholds: ranks.iter().map(|&r| (r as f32 + 0.5) / n).collect(),
        }
    }

    /// The threshold for pixel `(x, y)`; the map tiles the plane.
    #[cfg(test)]
    pub(crate) fn at(&self, x: usize, y: usize) -> f32 {
        self.thresholds[(y % self.size) * self.size + x % self.size]
    }

    /// One row of the tiled map, starting at column 0.
    pub(crate) fn row(&self, y: usize) -> &[f32] {
        let start = (y % self.size) * self.size;
        &self.thresholds[start..start + self.size]
    }

    /// Side length.
    #[cfg(test)]
    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

/// The ranks of the `2^k × 2^k` Bayer matrix, built by the usual recursion
/// `M₂ₙ = [[4M, 4M + 2], [4M + 3, 4M + 1]]`.
pub(crate) fn bayer_ranks(k: u32) -> Vec<u32> {
    let mut m = vec![0u32];
    let mut n = 1usize;
    for _ in 0..k {
        let mut next = vec![0u32; 4 * n * n];
        for y in 0..n {
            for x in 0..n {
                let v = 4 * m[y * n + x];
                next[y * 2 * n + x] = v;
                next[y * 2 * n + x + n] = v + 2;
                next[(y + n) * 2 * n + x] = v + 3;
                next[(y + n) * 2 * n + x + n] = v + 1;
            }
        }
        m = next;
        n *= 2;
    }
    m
}

/// The Bayer map of side `2^k` (k = 1, 2 or 3), built once.
pub(crate) fn bayer(k: u32) -> &'static ThresholdMap {
    static MAPS: [OnceLock<ThresholdMap>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let k = k.clamp(1, 3);
    MAPS[(k - 1) as usize].get_or_init(|| ThresholdMap::from_ranks(1 << k, &bayer_ranks(k)))
}

/// Side of the blue-noise map.
pub(crate) const BLUE_NOISE_SIZE: usize = 64;

/// The blue-noise map, made by [`void_and_cluster`] on first use (a few tens of
/// milliseconds) and kept.
pub(crate) fn blue_noise() -> &'static ThresholdMap {
    static MAP: OnceLock<ThresholdMap> = OnceLock::new();
    MAP.get_or_init(|| {
        ThresholdMap::from_ranks(BLUE_NOISE_SIZE, &void_and_cluster(BLUE_NOISE_SIZE, 1.5))
    })
}

/// A small deterministic generator (SplitMix64) for the initial pattern.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The energy of a binary pattern on a torus: every set cell spreads a Gaussian of
/// deviation `sigma` over the plane; clusters have high energy, voids low.
struct Field {
    size: usize,
    kernel: Vec<f64>,
    energy: Vec<f64>,
    set: Vec<bool>,
}

impl Field {
    fn new(size: usize, sigma: f64) -> Field {
        let mut kernel = vec![0.0; size * size];
        for dy in 0..size {
            for dx in 0..size {
                // Wrapped distance.
                let wx = dx.min(size - dx) as f64;
                let wy = dy.min(size - dy) as f64;
                kernel[dy * size + dx] = color::exp(-(wx * wx + wy * wy) / (2.0 * sigma * sigma));
            }
        }
        Field {
            size,
            kernel,
            energy: vec![0.0; size * size],
            set: vec![false; size * size],
        }
    }

    fn toggle(&mut self, p: usize, on: bool) {
        self.set[p] = on;
        let sign = if on { 1.0 } else { -1.0 };
        let n = self.size;
        let (px, py) = (p % n, p / n);
        for y in 0..n {
            let ky = ((y + n - py) % n) * n;
            let row = &mut self.energy[y * n..(y + 1) * n];
            for (x, e) in row.iter_mut().enumerate() {
                *e += sign * self.kernel[ky + (x + n - px) % n];
            }
        }
    }

    /// The set cell of highest energy (the lowest index on ties).
    fn tightest_cluster(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, (&e, &s)) in self.energy.iter().zip(&self.set).enumerate() {
            if s && best.is_none_or(|b| e > self.energy[b]) {
                best = Some(i);
            }
        }
        best
    }

    /// The empty cell of lowest energy (the lowest index on ties).
    fn largest_void(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, (&e, &s)) in self.energy.iter().zip(&self.set).enumerate() {
            if !s && best.is_none_or(|b| e < self.energy[b]) {
                best = Some(i);
            }
        }
        best
    }
}

/// Ulichney's void-and-cluster method: the ranks (`0..size²`) of a `size × size`
/// threshold map whose every threshold level is an evenly spread, blue-noise pattern.
///
/// 1. A tenth of the cells are set at (deterministic) random, then the set cell in the
///    tightest cluster is moved to the largest void until that no longer changes anything.
/// 2. Ranks below that pattern's count: remove the tightest cluster, one at a time.
/// 3. Ranks from it up: fill the largest void, one at a time. (Filling the largest void of
///    the set cells is the same as removing the tightest cluster of the empty ones, so this
///    also covers Ulichney's third phase.)
pub(crate) fn void_and_cluster(size: usize, sigma: f64) -> Vec<u32> {
    let n = size * size;
    let mut field = Field::new(size, sigma);
    let mut rng = SplitMix(0x0e51_d17e_2026_0007);
    let mut placed = 0;
    while placed < n / 10 {
        let p = (rng.next() % n as u64) as usize;
        if !field.set[p] {
            field.toggle(p, true);
            placed += 1;
        }
    }
    // Phase 1: relax the initial pattern (bounded, though it settles long before).
    for _ in 0..n * 4 {
        let Some(c) = field.tightest_cluster() else {
            break;
        };
        field.toggle(c, false);
        let Some(v) = field.largest_void() else {
            break;
        };
        field.toggle(v, true);
        if v == c {
            break;
        }
    }
    let prototype_set = field.set.clone();
    let prototype_energy = field.energy.clone();
    let mut ranks = vec![0u32; n];
    // Phase 2: ranks below the prototype's count.
    for rank in (0..placed).rev() {
        let Some(c) = field.tightest_cluster() else {
            break;
        };
        field.toggle(c, false);
        ranks[c] = rank as u32;
    }
    // Phase 3: the rest, from the prototype upwards.
    field.set = prototype_set;
    field.energy = prototype_energy;
    for rank in placed..n {
        let Some(v) = field.largest_void() else {
            break;
        };
        field.toggle(v, true);
        ranks[v] = rank as u32;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_permutation(ranks: &[u32]) -> bool {
        let mut seen = vec![false; ranks.len()];
        for &r in ranks {
            match seen.get_mut(r as usize) {
                Some(s) if !*s => *s = true,
                _ => return false,
            }
        }
        true
    }

    #[test]
    fn bayer_matrices_are_the_textbook_ones() {
        assert_eq!(bayer_ranks(1), vec![0, 2, 3, 1]);
        assert_eq!(
            bayer_ranks(2),
            vec![0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5]
        );
        assert!(is_permutation(&bayer_ranks(3)));
        assert_eq!(bayer(3).size(), 8);
        assert!((bayer(1).at(0, 0) - 0.125).abs() < 1e-6);
    }

    #[test]
    fn blue_noise_levels_are_evenly_spread() {
        let map = blue_noise();
        let n = BLUE_NOISE_SIZE;
        let ranks: Vec<u32> = (0..n * n)
            .map(|i| (map.at(i % n, i / n) * (n * n) as f32 - 0.5).round() as u32)
            .collect();
        assert!(is_permutation(&ranks));
        // At every level, every 8×8 window holds close to its share of set cells: no
        // clumps, no holes (white noise would stray by ±3σ ≈ ±12 at half density).
        for level in [0.1f32, 0.25, 0.5, 0.75, 0.9] {
            for wy in (0..n).step_by(8) {
                for wx in (0..n).step_by(8) {
                    let count = (0..64)
                        .filter(|i| map.at(wx + i % 8, wy + i / 8) < level)
                        .count() as f32;
                    assert!(
                        (count - 64.0 * level).abs() <= 4.0,
                        "level {level}, window ({wx}, {wy}): {count}"
                    );
                }
            }
        }
    }
}
