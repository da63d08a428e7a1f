//go:build !amd64 || noasm

package kernels

const useVecAsm = false

func dotAsm(x, y *float32, nblk int, s *[vecLanes]float32) { panic("unreachable") }
func axpyAsm(alpha float32, x, y *float32, n int)          { panic("unreachable") }

func setVecAsm(on bool) {}
