package toolexec

import (
	"bufio"
	"bytes"
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"strings"
)

// An importcfg is the file through which the go command tells the
// compiler and the linker where each package's archive is.
type importcfg struct {
	path  string
	data  []byte
	files map[string]string // import path -> archive ("packagefile")
	maps  map[string]string // import path in source -> import path ("importmap")
}

func readImportcfg(path string) (*importcfg, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &importcfg{path: path, data: data, files: map[string]string{}, maps: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		verb, rest, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			continue
		}
		switch verb {
		case "packagefile":
			c.files[k] = v
		case "importmap":
			c.maps[k] = v
		}
	}
	return c, sc.Err()
}

// importer returns a types importer that reads the export data the
// importcfg names, as the compiler would.
func (c *importcfg) importer(fset *token.FileSet) types.Importer {
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if m, ok := c.maps[path]; ok {
			path = m
		}
		file, ok := c.files[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s in %s", path, c.path)
		}
		return os.Open(file)
	})
}

// with returns the importcfg's text with the packages of pkgs that it
// lacks added, and whether it added any.
// hasRuntime reports whether c maps every package of pkgs.
func (c *importcfg) hasRuntime(pkgs []string) bool {
	for _, path := range pkgs {
		if _, ok := c.files[path]; !ok {
			return false
		}
	}
	return true
}

func (c *importcfg) with(pkgs []rtPackage) ([]byte, bool) {
	out := bytes.Clone(c.data)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	added := false
	for _, p := range pkgs {
		if p.Export == "" {
			continue
		}
		if _, ok := c.files[p.ImportPath]; !ok {
			out = fmt.Appendf(out, "packagefile %s=%s\n", p.ImportPath, p.Export)
			added = true
		}
	}
	return out, added
}

// actionID returns the action part of an archive's build ID: two archives
// with the same one are the output of the same build step.
func actionID(archive string) (string, error) {
	f, err := os.Open(archive)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, 1024)
	n, _ := io.ReadFull(f, buf)
	buf = buf[:n]
	const marker = "\nbuild id \""
	i := bytes.Index(buf, []byte(marker))
	if i < 0 {
		return "", fmt.Errorf("%s: no build id", archive)
	}
	id := buf[i+len(marker):]
	if j := bytes.IndexAny(id, "/\""); j >= 0 {
		id = id[:j]
	}
	return string(id), nil
}
