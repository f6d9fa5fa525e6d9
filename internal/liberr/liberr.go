// Package liberr holds the error type of omnimask's calls into its C
// libraries, GDAL (package gdalio) and ONNX Runtime (package ort). The
// engine exports it as engine.Error.
package liberr

import "strings"

// Error records a failed call into GDAL or ONNX Runtime: what was being done,
// the file, dataset or model it concerned, and the library's error, which
// errors.Is and errors.As reach through Unwrap. It prints on one line,
// "Path: Op: cause" (the empty parts left out), with only the first line of
// a library's multi-line message, as fs.PathError prints "op path: err".
type Error struct {
	Op   string // what failed, such as "reading band 2 rows 0-511"; "" when Err says it
	Path string // the file, GDAL dataset name or model; "" when none
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(FirstLine(e.Err))
	}
	return strings.TrimSuffix(b.String(), ": ")
}

func (e *Error) Unwrap() error { return e.Err }

// FirstLine returns the first line of err's message, trimmed: GDAL and ONNX
// Runtime messages may span several lines (a CPLError history, an ORT
// stack), and an error should print on one.
func FirstLine(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// Mark returns err with its message unchanged, for which errors.Is also
// reports kind: a way to classify an error (os.ErrNotExist, an engine
// kind) without rewording it. Unwrap still reaches err.
func Mark(err, kind error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, kind: kind}
}

type marked struct{ err, kind error }

func (m *marked) Error() string        { return m.err.Error() }
func (m *marked) Unwrap() error        { return m.err }
func (m *marked) Is(target error) bool { return target == m.kind }
