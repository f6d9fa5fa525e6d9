package gdalio

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/airbusgeo/godal"

	"github.com/omnimask/omnimask/internal/regfile"
)

// ErrRefused is wrapped when a dataset name (an argument, or a source a VRT
// reads) is of a kind omnimask never hands to GDAL: connection strings that
// make GDAL read raw process memory (MEM:::DATAPOINTER=…), reach the network
// or a database, read standard input, or VRTs that run code.
var ErrRefused = errors.New("refused")

// Limits of the walk through VRT sources.
const (
	maxVRTBytes   = 64 << 20 // a VRT larger than this is refused unread
	maxVRTDepth   = 16       // VRTs reading VRTs…
	maxSources    = 100000   // distinct sources in all
	maxSAFEWalk   = 20000    // entries of a Sentinel-2 product folder checked
	sniffVRTBytes = 1024
)

// subDatasetDrivers are the GDAL drivers whose "DRIVER:…" names are
// accepted: sub-datasets of files (HDF, NetCDF, Sentinel-2 products, TIFF
// directories, NITF images). Every other "NAME:…" prefix is a connection
// string of some driver (MEM, PG, WMS, vrt://…) and is refused.
var subDatasetDrivers = map[string]bool{
	"HDF4": true, "HDF4_SDS": true, "HDF4_GR": true, "HDF4_EOS": true, "HDF5": true, "NETCDF": true,
	"SENTINEL2_L1B": true, "SENTINEL2_L1C": true, "SENTINEL2_L2A": true, "SENTINEL2_L1C_TILE": true,
	"GTIFF_DIR": true, "NITF_IM": true, "GPKG": true, "ZARR": true,
}

// vsiAllowed are the GDAL virtual file systems a scene may be read through:
// archives and compressed files on the local disk, and GDAL's in-memory files
// (which only this process can create).
var vsiAllowed = map[string]bool{"vsizip": true, "vsitar": true, "vsigzip": true, "vsimem": true}

// vsiWhy explains the refused virtual file systems.
var vsiWhy = map[string]string{
	"vsistdin": "reads standard input", "vsistdout": "writes standard output",
	"vsicrypt": "needs a key", "vsisubfile": "reads raw byte ranges", "vsisparse": "assembles files from an XML description",
}

var driverPrefix = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_]*):`)

// Sources checks a dataset name before GDAL sees it and returns the local
// files reading it would touch: the file itself, the archive of a /vsizip/
// path, the file of a sub-dataset, every source of a VRT (recursively), and
// the file's sidecars that exist (.aux.xml, .ovr, .msk, world files…). A
// name of a refused kind wraps ErrRefused; a file that is not regular (a
// named pipe would block GDAL forever) wraps regfile.ErrNotRegular. Nothing
// is opened but regular files, and those only to look for a VRT header.
func Sources(name string) ([]string, error) {
	w := &walker{seen: map[string]bool{}}
	if err := w.visit(name, 0); err != nil {
		return nil, err
	}
	return w.files, nil
}

type walker struct {
	files []string
	seen  map[string]bool
	n     int
}

func (w *walker) add(f string) {
	if !w.seen["file:"+f] {
		w.seen["file:"+f] = true
		w.files = append(w.files, f)
	}
}

func refused(name, why string) error {
	return fmt.Errorf("%s: %w: %s", Quote(name), ErrRefused, why)
}

// Quote shortens a dataset name for a message and escapes control
// characters, so an error stays one readable line.
func Quote(name string) string {
	const max = 200
	if len(name) > max {
		name = name[:max] + "…"
	}
	if strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0 {
		return name
	}
	q := fmt.Sprintf("%q", name)
	return q[1 : len(q)-1]
}

func (w *walker) visit(name string, depth int) error {
	if w.seen[name] {
		return nil
	}
	w.seen[name] = true
	if w.n++; w.n > maxSources {
		return fmt.Errorf("%s: %w: more than %d sources", Quote(name), ErrRefused, maxSources)
	}
	if depth > maxVRTDepth {
		return refused(name, fmt.Sprintf("VRT sources nested more than %d deep", maxVRTDepth))
	}
	trimmed := strings.TrimSpace(name)
	switch {
	case trimmed == "":
		return errors.New("gdalio: empty dataset name")
	case strings.HasPrefix(trimmed, "<"):
		return refused(name, "an inline XML dataset (give a .vrt file)")
	case strings.HasPrefix(name, "/vsi"):
		return w.visitVSI(name, depth)
	}
	if _, err := os.Lstat(name); err == nil {
		return w.visitFile(name, depth)
	}
	if strings.Contains(name, "://") {
		return refused(name, "a URL (network access is off)")
	}
	if m := driverPrefix.FindStringSubmatch(name); m != nil {
		drv := strings.ToUpper(m[1])
		if !subDatasetDrivers[drv] && !strings.HasPrefix(drv, "SENTINEL2_") {
			if why := connectionWhy(drv); why != "" {
				return refused(name, why)
			}
			return fmt.Errorf("%s: %w: no such file, and %w: %s:… is not a sub-dataset of HDF, NetCDF, Sentinel-2 or TIFF files", Quote(name), ErrNotRaster, ErrRefused, drv)
		}
		f := subDatasetFile(name[len(m[0]):])
		if f == "" {
			return fmt.Errorf("%s: %w: no such file in this sub-dataset name", Quote(name), os.ErrNotExist)
		}
		if strings.HasPrefix(f, "/vsi") {
			return w.visitVSI(f, depth)
		}
		if err := w.visitFile(f, depth); err != nil {
			return err
		}
		if strings.HasPrefix(drv, "SENTINEL2_") {
			return checkTree(filepath.Dir(f))
		}
		return nil
	}
	return nil // a plain path that does not exist: the caller says so
}

func connectionWhy(drv string) string {
	switch drv {
	case "MEM":
		return "MEM datasets read raw process memory"
	case "PG", "MYSQL", "ODBC", "OCI", "MSSQL", "PGEO", "MONGODB", "MONGODBV3":
		return "database connections are not opened"
	case "WMS", "WMTS", "WCS", "EEDA", "EEDAI", "PLSCENES", "DAAS", "NGW", "HTTP", "HTTPS", "FTP", "AMIGOCLOUD", "CARTO", "ELASTIC", "PLMOSAIC", "OGCAPI", "STACTA", "STACIT":
		return "network access is off"
	case "VRT":
		return "vrt:// connection strings are not opened (give a .vrt file)"
	}
	return ""
}

// subDatasetFile finds the file of a sub-dataset name's remainder: the quoted
// part (HDF4_EOS:EOS_GRID:"f.hdf":grid:field), else the first prefix ending
// at a colon (or the whole) that exists (SENTINEL2_L2A:/p/MTD.xml:10m:EPSG_1,
// GTIFF_DIR:1:f.tif takes the part after the number).
func subDatasetFile(rest string) string {
	if i := strings.IndexByte(rest, '"'); i >= 0 {
		if j := strings.IndexByte(rest[i+1:], '"'); j >= 0 {
			return rest[i+1 : i+1+j]
		}
	}
	parts := strings.Split(rest, ":")
	for i := range parts {
		for j := len(parts); j > i; j-- {
			cand := strings.Join(parts[i:j], ":")
			if strings.HasPrefix(cand, "/vsi") {
				return cand
			}
			if _, err := os.Stat(cand); err == nil {
				return cand
			}
		}
	}
	return ""
}

// visitVSI checks a /vsi… path: only archives and compressed files on the
// local disk (and /vsimem/).
func (w *walker) visitVSI(name string, depth int) error {
	rest := strings.TrimPrefix(name, "/")
	fsname, rest, _ := strings.Cut(rest, "/")
	fsname = strings.ToLower(fsname)
	if !vsiAllowed[fsname] {
		why, ok := vsiWhy[fsname]
		switch {
		case ok:
		case strings.HasPrefix(fsname, "vsicurl") || strings.HasPrefix(fsname, "vsis3") || strings.HasPrefix(fsname, "vsigs") ||
			strings.HasPrefix(fsname, "vsiaz") || strings.HasPrefix(fsname, "vsiadls") || strings.HasPrefix(fsname, "vsioss") ||
			strings.HasPrefix(fsname, "vsiswift") || strings.HasPrefix(fsname, "vsihdfs") || strings.HasPrefix(fsname, "vsiwebhdfs"):
			why = "network access is off"
		default:
			why = "only /vsizip/, /vsitar/ and /vsigzip/ are read"
		}
		return refused(name, "/"+fsname+"/ "+why)
	}
	if fsname == "vsimem" {
		return w.sniffVSI(name, depth)
	}
	// The archive: {braced}, a nested /vsi path, or the first prefix of the
	// remaining components that is a file.
	archive := ""
	if strings.HasPrefix(rest, "{") {
		if i := strings.IndexByte(rest, '}'); i > 0 {
			archive = rest[1:i]
		}
	} else if strings.HasPrefix(rest, "/vsi") {
		// Nested: /vsizip//vsitar/… — the inner path finds its own archive.
		if err := w.visit(rest, depth); err != nil {
			return err
		}
		return w.sniffVSI(name, depth)
	} else {
		// /vsizip//abs/a.zip/member (absolute) or /vsizip/rel/a.zip/member.
		comps := strings.Split(rest, "/")
		for i := 1; i <= len(comps); i++ {
			cand := strings.Join(comps[:i], "/")
			if cand == "" {
				continue
			}
			if st, err := os.Stat(cand); err == nil && !st.IsDir() {
				archive = cand
				break
			}
		}
	}
	if archive == "" {
		return nil // GDAL reports the missing archive
	}
	if strings.HasPrefix(archive, "/vsi") {
		if err := w.visit(archive, depth); err != nil {
			return err
		}
	} else if err := w.visitFile(archive, depth+maxVRTDepth+1); err != nil { // an archive is not a VRT
		return err
	}
	return w.sniffVSI(name, depth)
}

// sniffVSI reads the head of a member of an archive (or /vsimem/ file)
// through GDAL's virtual file system and walks it when it is a VRT.
func (w *walker) sniffVSI(name string, depth int) error {
	f, err := godal.VSIOpen(name)
	if err != nil {
		return nil // not a file (a folder in the archive, missing): GDAL says
	}
	data, err := io.ReadAll(io.LimitReader(f, maxVRTBytes+1))
	f.Close()
	if err != nil || !isVRT(data) {
		return nil
	}
	if len(data) > maxVRTBytes {
		return refused(name, fmt.Sprintf("a VRT larger than %d MiB", maxVRTBytes>>20))
	}
	return w.walkVRT(name, data, path.Dir(name), depth)
}

// visitFile checks a local file: regular, its sidecars regular, and when it
// is a VRT, its sources.
func (w *walker) visitFile(name string, depth int) error {
	st, err := os.Stat(name)
	if err != nil {
		return nil // GDAL or checkPath says what is wrong
	}
	if st.IsDir() {
		return nil
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w but %s", Quote(name), regfile.ErrNotRegular, regfile.Kind(st.Mode()))
	}
	w.add(name)
	if err := w.sidecars(name); err != nil {
		return err
	}
	if depth > maxVRTDepth {
		return nil
	}
	f, err := regfile.Open(name)
	if err != nil {
		return fmt.Errorf("%s: %w", Quote(name), err)
	}
	head := make([]byte, sniffVRTBytes)
	n, _ := io.ReadFull(f, head)
	f.Close()
	if !isVRT(head[:n]) {
		return nil
	}
	if st.Size() > maxVRTBytes {
		return refused(name, fmt.Sprintf("a VRT larger than %d MiB", maxVRTBytes>>20))
	}
	data, err := regfile.Read(name, maxVRTBytes)
	if err != nil {
		return err
	}
	return w.walkVRT(name, data, filepath.Dir(name), depth)
}

// sidecarSuffixes are files GDAL opens beside a raster: PAM metadata,
// external overviews and masks, world and projection files, RPCs.
var sidecarSuffixes = []string{".aux.xml", ".ovr", ".msk", ".aux", ".ovr.aux.xml"}
var sidecarExts = []string{".tfw", ".tifw", ".tiffw", ".wld", ".prj", ".aux", ".imd", ".rpb", "_rpc.txt", ".tab", ".j2w", ".jgw"}

// sidecars refuses sidecars that exist and are not regular files (GDAL
// would block on a named pipe), and records the regular ones as read.
func (w *walker) sidecars(name string) error {
	dir, base := filepath.Split(name)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	want := map[string]bool{}
	for _, s := range sidecarSuffixes {
		want[strings.ToLower(base+s)] = true
	}
	for _, s := range sidecarExts {
		want[strings.ToLower(stem+s)] = true
	}
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, en := range entries {
		if !want[strings.ToLower(en.Name())] {
			continue
		}
		p := filepath.Join(dir, en.Name())
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s: %w but %s (GDAL reads it beside %s)", Quote(p), regfile.ErrNotRegular, regfile.Kind(st.Mode()), Quote(base))
		}
		w.add(p)
	}
	return nil
}

// checkTree refuses a product folder (Sentinel-2 SAFE) holding files that
// are not regular, since GDAL opens its members itself.
func checkTree(root string) error {
	n := 0
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if n++; n > maxSAFEWalk {
			return filepath.SkipAll
		}
		if d.IsDir() || d.Type().IsRegular() {
			return nil
		}
		st, err := os.Stat(p)
		if err == nil && !st.Mode().IsRegular() && !st.IsDir() {
			return fmt.Errorf("%s: %w but %s (inside the product %s)", Quote(p), regfile.ErrNotRegular, regfile.Kind(st.Mode()), Quote(root))
		}
		return nil
	})
}

func isVRT(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	if bytes.HasPrefix(head, []byte("<?xml")) {
		if i := bytes.Index(head, []byte("?>")); i >= 0 {
			head = bytes.TrimLeft(head[i+2:], " \t\r\n")
		}
	}
	return bytes.HasPrefix(head, []byte("<VRTDataset"))
}

// walkVRT checks every source of a VRT (SourceFilename, SourceDataset of
// warped VRTs, overview and mask sources) and refuses pixel functions
// written in a language (Python): GDAL would run them.
func (w *walker) walkVRT(name string, data []byte, dir string, depth int) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	var src *xml.StartElement
	var text strings.Builder
	cur := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w (%v)", Quote(name), ErrNotRaster, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			cur = t.Name.Local
			switch t.Name.Local {
			case "SourceFilename", "SourceDataset":
				e := t.Copy()
				src = &e
				text.Reset()
			case "PixelFunctionCode":
				return refused(name, "the VRT holds pixel function code, which GDAL would run")
			}
		case xml.CharData:
			if cur == "PixelFunctionLanguage" && !strings.EqualFold(strings.TrimSpace(string(t)), "C") && strings.TrimSpace(string(t)) != "" {
				return refused(name, "the VRT names pixel functions in "+Quote(strings.TrimSpace(string(t)))+", which GDAL would run")
			}
			if src != nil {
				text.Write(t)
			}
		case xml.EndElement:
			cur = ""
			if src == nil || t.Name.Local != src.Name.Local {
				continue
			}
			s := strings.TrimSpace(text.String())
			rel := false
			for _, a := range src.Attr {
				if a.Name.Local == "relativeToVRT" && strings.TrimSpace(a.Value) == "1" {
					rel = true
				}
			}
			src = nil
			if s == "" {
				continue
			}
			if rel && !strings.HasPrefix(s, "/") {
				if strings.HasPrefix(dir, "/vsi") {
					s = path.Join(dir, s)
				} else {
					s = filepath.Join(dir, s)
				}
			}
			if err := w.visit(s, depth+1); err != nil {
				return fmt.Errorf("%s: source %w", Quote(name), err)
			}
		}
	}
}
