//go:build !amd64 || noasm

package kernels

// kernelsAvailable lists the micro-kernels this build can run: only the
// portable one without assembly.
func kernelsAvailable() []*microKernel { return []*microKernel{portableKernel} }
