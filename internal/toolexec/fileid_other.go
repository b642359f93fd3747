//go:build !unix

package toolexec

import "io/fs"

// fileID identifies a file beyond its name where the system says how.
func fileID(fs.FileInfo) string { return "" }
