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

/// The header of a topic table by half ([`topic_row`]).
pub fn topic_header() {
    println!(
        "{:<20} {:>26} {:>26} {:>8} {:>8}",
        "topic", "tune P / R (tp/fp/fn)", "measure P / R (tp/fp/fn)", "target P", "target R"
    );
}

/// What a topic must hold on each half: precision and recall floors, and (where a set has
/// few positives) the most false positives (weighted).
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    pub precision: f64,
    pub recall: f64,
    pub most_fp: f64,
}

impl Floor {
    pub const fn new(precision: f64, recall: f64) -> Floor {
        Floor {
            precision,
            recall,
            most_fp: f64::INFINITY,
        }
    }

    pub const fn with_most_fp(self, most_fp: f64) -> Floor {
        Floor { most_fp, ..self }
    }
}

/// Prints a topic's row (tune and measure counts beside its targets) and adds what falls
/// below its floors to `failures`.
pub fn topic_row(slug: &str, target: (f64, f64), halves: [(&str, Counts, Floor); 2], failures: &mut Vec<String>) {
    let cell = |c: Counts| format!("{:.2} / {:.2} ({}/{}/{})", c.precision(), c.recall(), c.tp, c.fp, c.fn_);
    println!(
        "{slug:<20} {:>26} {:>26} {:>8.2} {:>8.2}",
        cell(halves[0].1),
        cell(halves[1].1),
        target.0,
        target.1
    );
    for (half, c, floor) in halves {
        if c.fp > floor.most_fp {
            failures.push(format!(
                "{slug} ({half}): {} false positives (at most {})",
                c.fp, floor.most_fp
            ));
        }
        if c.precision() < floor.precision || c.recall() < floor.recall {
            failures.push(format!(
                "{slug} ({half}): precision {:.3} (floor {}), recall {:.3} (floor {})",
                c.precision(),
                floor.precision,
                c.recall(),
                floor.recall
            ));
        }
    }
}
