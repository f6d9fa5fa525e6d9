package engine

// MaxBatchSize is the largest Options.BatchSize New accepts.
const MaxBatchSize = 256

// PatchRule reports the patch sizes the engine's models take: multiples of
// multiple, at least tiling.MinPatch; when a graph's input size is fixed,
// fixed is that size and the only one that runs (0 otherwise).
func (e *Engine) PatchRule() (multiple, fixed int) {
	return e.manifest.Multiple(), e.limits.fixedPatch
}
