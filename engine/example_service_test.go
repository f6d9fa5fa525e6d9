package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/omnimask/omnimask/engine"
	"github.com/omnimask/omnimask/internal/synth"
)

// statusOf maps an engine error to an HTTP status.
func statusOf(err error) int {
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb), errors.Is(err, engine.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, engine.ErrBusy):
		return http.StatusTooManyRequests
	case errors.Is(err, engine.ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, engine.ErrInvalidInput), errors.Is(err, engine.ErrUnsupported):
		return http.StatusUnprocessableEntity
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// A service: one engine for all requests, a memory budget shared by the
// predictions in flight (a request that does not fit gets 429 at once),
// GeoTIFF in, cloud-optimised GeoTIFF out through GDAL's /vsimem/ (no
// temporary file), errors mapped to statuses, Shutdown on exit. `omnimask
// serve` is the complete version.
func Example_service() {
	e, err := engine.New(engine.Options{
		Models:       []string{"../testdata/models/pointwise.onnx"},
		MemoryBudget: 1 << 30,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.Shutdown(ctx) // refuses new calls at once, cancels the rest after 10 s
	}()

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
		defer cancel()
		ctx = engine.WithLogger(ctx, slog.Default().With("remote", r.RemoteAddr))
		res, err := e.PredictReader(ctx, http.MaxBytesReader(w, r.Body, 256<<20), engine.Request{
			Bands:  r.URL.Query().Get("bands"),
			NoWait: true, // 429 rather than queueing
		})
		if err != nil {
			if errors.Is(err, engine.ErrBusy) {
				w.Header().Set("Retry-After", "1")
			}
			http.Error(w, err.Error(), statusOf(err))
			return
		}
		w.Header().Set("Content-Type", "image/tiff")
		res.WriteTo(w) // the mask as a COG
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	// A client's GeoTIFF (here a synthetic red, green, nir scene).
	dir, err := os.MkdirTemp("", "omnimask-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "scene.tif")
	if err := synth.New(synth.Options{Width: 256, Height: 256, Bands: []string{"red", "green", "nir"}}).WriteGeoTIFF(path, synth.FileOptions{}); err != nil {
		log.Fatal(err)
	}
	scene, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, body := range [][]byte{scene, []byte("not a tiff")} {
		resp, err := http.Post(srv.URL, "image/tiff", strings.NewReader(string(body)))
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Output:
	// 200 image/tiff
	// 422 text/plain; charset=utf-8
}
