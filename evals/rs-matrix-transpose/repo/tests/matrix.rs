use matrix::Matrix;

fn m(rows: usize, cols: usize, data: &[f64]) -> Matrix {
    Matrix::new(rows, cols, data.to_vec()).unwrap()
}

#[test]
fn multiply() {
    let a = m(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(a.mul(&Matrix::identity(2)), Some(a.clone()));
    assert_eq!(a.mul(&m(2, 1, &[1.0, 1.0])), Some(m(2, 1, &[3.0, 7.0])));
    assert_eq!(a.mul(&m(1, 2, &[1.0, 1.0])), None);
}

#[test]
fn transpose_swaps_rows_and_columns() {
    let a = m(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let t = a.transpose();
    assert_eq!((t.rows(), t.cols()), (3, 2));
    assert_eq!(t, m(3, 2, &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]));
    assert_eq!(t.transpose(), a);
}

#[test]
fn transpose_of_vector_and_empty() {
    assert_eq!(m(1, 3, &[7.0, 8.0, 9.0]).transpose(), m(3, 1, &[7.0, 8.0, 9.0]));
    assert_eq!(m(0, 0, &[]).transpose(), m(0, 0, &[]));
}

#[test]
fn transpose_of_product() {
    let a = m(2, 3, &[1.0, 0.0, 2.0, -1.0, 3.0, 1.0]);
    let b = m(3, 2, &[3.0, 1.0, 2.0, 1.0, 1.0, 0.0]);
    let ab = a.mul(&b).unwrap();
    assert_eq!(ab.transpose(), b.transpose().mul(&a.transpose()).unwrap());
}
