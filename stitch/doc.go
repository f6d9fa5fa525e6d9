// Package stitch puts patch predictions back together on the scene's grid:
// it blends the overlapping patches' class logits into rows whose memory does
// not grow with scene height (Accumulator), brings finished rows from the
// processing grid back to the native one (Upsampler, on the bilinear Axis,
// BilinearRow and BilinearAt), and turns logits into classes (Argmax) and
// probabilities (Softmax). It uses no cgo and does no I/O.
//
// Tiles are blended as logits, the way OmniCloudMask does: the window-
// weighted mean of overlapping patches' logits is taken per pixel, the class
// is its argmax, and probabilities (softmax) are computed only for the
// confidence output, once per output pixel. Averaging logits instead of
// probabilities spares a softmax over every class of every patch pixel,
// which was the largest cost of the engine outside ONNX Runtime.
package stitch
