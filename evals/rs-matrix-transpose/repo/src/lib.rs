//! Dense row-major matrices of f64.

#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// A `rows` x `cols` matrix from its entries, row by row.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Matrix, String> {
        if data.len() != rows * cols {
            return Err(format!("{rows}x{cols} needs {} entries, got {}", rows * cols, data.len()));
        }
        Ok(Matrix { rows, cols, data })
    }

    pub fn identity(n: usize) -> Matrix {
        let mut m = Matrix { rows: n, cols: n, data: vec![0.0; n * n] };
        for i in 0..n {
            m.data[i * n + i] = 1.0;
        }
        m
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn get(&self, row: usize, col: usize) -> f64 {
        self.data[row * self.cols + col]
    }

    /// The product `self * other`, or `None` if the shapes don't fit.
    pub fn mul(&self, other: &Matrix) -> Option<Matrix> {
        if self.cols != other.rows {
            return None;
        }
        let mut data = Vec::with_capacity(self.rows * other.cols);
        for r in 0..self.rows {
            for c in 0..other.cols {
                data.push((0..self.cols).map(|k| self.get(r, k) * other.get(k, c)).sum());
            }
        }
        Some(Matrix { rows: self.rows, cols: other.cols, data })
    }
}
