package main

import (
	"errors"

	"github.com/omnimask/omnimask/engine"
)

// explain is err's message with the command's advice where a flag resolves
// it: the library names the Request field (engine.InputError), the command
// its flag.
func explain(err error) string {
	msg := err.Error()
	var ie *engine.InputError
	var sd *engine.SubDatasetError
	switch {
	case errors.As(err, &ie):
		switch ie.Field {
		case "Bands":
			msg += "; pass --bands"
		case "Resolution":
			msg += "; pass --resolution METRES (or --no-resample)"
		case "PatchSize":
			msg += "; pass --patch-size"
		}
	case errors.Is(err, engine.ErrTooLarge):
		msg += "; pass a smaller --patch-size"
	case errors.As(err, &sd) && len(sd.SubDatasets) > 1:
		msg += "; see omnimask info, or pass --sensor"
	}
	return msg
}
