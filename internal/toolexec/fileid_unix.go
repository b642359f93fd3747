//go:build unix

package toolexec

import (
	"fmt"
	"io/fs"
	"syscall"
)

// fileID identifies a file beyond its name: device and inode.
func fileID(st fs.FileInfo) string {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d", s.Dev, s.Ino)
	}
	return ""
}
