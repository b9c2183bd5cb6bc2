//! `f32` kernels dispatched by instruction set. (Placeholder: every kernel calls the scalar
//! reference until the vector implementations land.)

use crate::scalar;

pub fn sigmoid_inplace(x: &mut [f32]) {
    scalar::sigmoid_inplace(x)
}
pub fn tanh_inplace(x: &mut [f32]) {
    scalar::tanh_inplace(x)
}
pub fn relu_inplace(x: &mut [f32]) {
    scalar::relu_inplace(x)
}
pub fn relu_backward(dx: &mut [f32], dy: &[f32], y: &[f32]) {
    scalar::relu_backward(dx, dy, y)
}
pub fn sigmoid_backward(dx: &mut [f32], dy: &[f32], y: &[f32]) {
    scalar::sigmoid_backward(dx, dy, y)
}
pub fn tanh_backward(dx: &mut [f32], dy: &[f32], y: &[f32]) {
    scalar::tanh_backward(dx, dy, y)
}
pub fn add_bias_rows(y: &mut [f32], bias: &[f32]) {
    scalar::add_bias_rows(y, bias)
}
pub fn column_sums(sums: &mut [f32], x: &[f32]) {
    scalar::column_sums(sums, x)
}
pub fn lstm_cell_forward(gates: &mut [f32], c: &mut [f32], h: &mut [f32], c_prev: &[f32], hidden: usize) {
    scalar::lstm_cell_forward(gates, c, h, c_prev, hidden)
}
pub fn lstm_cell_backward(
    dpre: &mut [f32],
    dc: &mut [f32],
    gates: &[f32],
    c_prev: &[f32],
    c: &[f32],
    dh: &[f32],
    hidden: usize,
) {
    scalar::lstm_cell_backward(dpre, dc, gates, c_prev, c, dh, hidden)
}
pub fn softmax_rows(x: &mut [f32], cols: usize) {
    scalar::softmax_rows(x, cols)
}
pub fn softmax_rows_backward(dx: &mut [f32], dy: &[f32], y: &[f32], cols: usize) {
    scalar::softmax_rows_backward(dx, dy, y, cols)
}
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_forward(
    y: &mut [f32],
    mean: &mut [f32],
    rstd: &mut [f32],
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
) {
    scalar::layer_norm_forward(y, mean, rstd, x, gamma, beta, eps)
}
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward(
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    dy: &[f32],
    x: &[f32],
    mean: &[f32],
    rstd: &[f32],
    gamma: &[f32],
) {
    scalar::layer_norm_backward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma)
}
#[allow(clippy::too_many_arguments)]
pub fn adam_update(
    p: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    alpha: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
) {
    scalar::adam_update(p, m, v, g, alpha, beta1, beta2, eps)
}
