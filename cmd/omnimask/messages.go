package main

import (
	"strings"

	"github.com/omnimask/omnimask/sensor"
)

// maxLine caps one message: a path is at most 4096 bytes; anything longer
// is a list that should have been shortened where it was made.
const maxLine = 8192

// oneLine returns s as one line for the terminal: control characters
// (newlines, escapes, carriage returns… in file names, band names or GDAL's
// messages) are escaped as Go does in quoted strings, and the line is cut
// at maxLine bytes.
func oneLine(s string) string {
	if strings.IndexFunc(s, isControl) >= 0 {
		var b strings.Builder
		for _, r := range s {
			if !isControl(r) {
				b.WriteRune(r)
				continue
			}
			switch r {
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				if r < 0x80 {
					b.WriteString(`\x` + string("0123456789abcdef"[r>>4]) + string("0123456789abcdef"[r&15]))
				} else {
					b.WriteString(`\u` + hex4(r))
				}
			}
		}
		s = b.String()
	}
	if len(s) > maxLine {
		s = s[:maxLine] + "… (cut)"
	}
	return s
}

func hex4(r rune) string {
	const h = "0123456789abcdef"
	return string([]byte{h[r>>12&15], h[r>>8&15], h[r>>4&15], h[r&15]})
}

// isControl reports C0 and C1 control characters and DEL.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// checkSensor refuses an unknown --sensor before any scene is read.
func checkSensor(name string) error {
	if name == "" || strings.EqualFold(name, "auto") {
		return nil
	}
	if _, err := sensor.Lookup(name); err != nil {
		return usagef("--sensor %s: %v", oneLine(name), strings.TrimPrefix(err.Error(), "sensor: "))
	}
	return nil
}
