package cmdline

import (
	"os"
	"path/filepath"
	"strings"
)

// MaskPath is where a mask of scene goes by default: SCENE_omnimask.tif in
// dir, or beside the scene when dir is empty. A file keeps its name even
// with a colon in it (sub/a:b.tif); a GDAL sub-dataset string
// DRIVER:"file":name that is no file becomes DRIVER_file_name.
func MaskPath(scene, dir string) string { return outputPath(scene, dir, "_omnimask.tif") }

// EmbedPath is where embeddings of scene go by default: SCENE_embed.tif,
// named as MaskPath names masks.
func EmbedPath(scene, dir string) string { return outputPath(scene, dir, "_embed.tif") }

func outputPath(scene, dir, suffix string) string {
	_, statErr := os.Stat(scene)
	if statErr == nil || !strings.Contains(scene, ":") {
		scene = filepath.Clean(scene)
	}
	base := filepath.Base(scene)
	if statErr != nil && strings.Contains(scene, ":") && !strings.HasPrefix(scene, "/") {
		base = strings.NewReplacer(":", "_", `"`, "", "/", "_").Replace(scene)
		scene = "."
	}
	name := strings.TrimSuffix(base, filepath.Ext(base)) + suffix
	if dir == "" {
		dir = filepath.Dir(scene)
	}
	return filepath.Join(dir, name)
}
