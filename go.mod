module github.com/omnimask/omnimask

go 1.26.8

require (
	github.com/airbusgeo/godal v0.0.18 // indirect
	github.com/yalue/onnxruntime_go v1.27.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
)
