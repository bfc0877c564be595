//! Pairs counted for precision and recall, shared by the evaluations.

/// True positives, false positives and false negatives, each weighted (1 per pair unless a
/// sample stands for more).
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
}

impl Counts {
    /// Counts one pair: whether it was wanted, whether it was found, what it weighs.
    pub fn add(&mut self, want: bool, got: bool, weight: f64) {
        match (want, got) {
            (true, true) => self.tp += weight,
            (false, true) => self.fp += weight,
            (true, false) => self.fn_ += weight,
            (false, false) => {}
        }
    }

    /// Precision (1 when nothing was found).
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0.0 {
            1.0
        } else {
            self.tp / (self.tp + self.fp)
        }
    }

    /// Recall (1 when nothing was wanted).
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0.0 {
            1.0
        } else {
            self.tp / (self.tp + self.fn_)
        }
    }
}
