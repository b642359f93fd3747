package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/asyncinstr/asyncinstr/rewrite"
)

// apply carries out -w or -o: it writes the changes in place, or into a
// copy of the module, and makes the module require the runtime.
func apply(o *options, res *rewrite.Result, stderr io.Writer) error {
	if res.Module == nil || res.Module.Dir == "" {
		if len(res.Changes) == 0 {
			return nil
		}
		return errors.New("cannot find the module of the packages to write")
	}
	root := res.Module.Dir
	changes := res.Changes
	if o.out != "" {
		dst, err := filepath.Abs(o.out)
		if err != nil {
			return err
		}
		if err := copyModule(root, dst); err != nil {
			return fmt.Errorf("copying the module to %s: %w", o.out, err)
		}
		changes = rebase(changes, root, dst)
		root = dst
		if err := absReplaces(root, res.Module.Dir); err != nil {
			return err
		}
	}
	var mod *modChange
	if !o.strip && len(changes) > 0 {
		var err error
		if mod, err = planGoMod(root); err != nil {
			return err
		}
	}
	if err := writeAll(changes); err != nil {
		return err
	}
	if o.verbose {
		for _, c := range changes {
			verb := "wrote"
			if c.New == nil {
				verb = "removed"
			}
			fmt.Fprintf(stderr, "asyncinstr: %s %s\n", verb, rel(c.Path))
		}
	}
	if mod != nil {
		if err := mod.apply(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "asyncinstr: %s\n", mod)
	}
	if o.strip && len(changes) > 0 {
		if note := requiresRuntime(root); note != "" {
			fmt.Fprintf(stderr, "asyncinstr: %s\n", note)
		}
	}
	return nil
}

// rebase moves changes from the module at from to its copy at to.
func rebase(changes []rewrite.Change, from, to string) []rewrite.Change {
	out := make([]rewrite.Change, len(changes))
	for i, c := range changes {
		r, _ := filepath.Rel(from, c.Path)
		c.Path = filepath.Join(to, r)
		out[i] = c
	}
	return out
}

// writeAll writes every change or none: each new content goes to a
// temporary file next to its target first, with the target's mode, and
// only when all of them are written are they renamed into place. A file
// that cannot be written stops the run before anything changes.
func writeAll(changes []rewrite.Change) (err error) {
	type pending struct{ tmp, path string }
	var todo []pending
	defer func() {
		if err != nil {
			for _, p := range todo {
				os.Remove(p.tmp)
			}
		}
	}()
	for _, c := range changes {
		mode := fs.FileMode(0o644)
		if c.Old != nil {
			fi, err := os.Stat(c.Path)
			if err != nil {
				return err
			}
			mode = fi.Mode().Perm()
			// Renaming over a read-only file would succeed; refuse, as an
			// editor would, also when running as root.
			if mode&0o222 == 0 {
				return fmt.Errorf("%s is read-only (mode %v)", rel(c.Path), mode)
			}
			f, err := os.OpenFile(c.Path, os.O_WRONLY, 0)
			if err != nil {
				return fmt.Errorf("%s is not writable: %w", rel(c.Path), errors.Unwrap(err))
			}
			f.Close()
		}
		if c.New == nil {
			continue
		}
		tmp, err := os.CreateTemp(filepath.Dir(c.Path), ".asyncinstr-*.tmp")
		if err != nil {
			return err
		}
		todo = append(todo, pending{tmp.Name(), c.Path})
		if _, err := tmp.Write(c.New); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Chmod(mode); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
	}
	for _, p := range todo {
		if err := os.Rename(p.tmp, p.path); err != nil {
			return err
		}
	}
	todo = nil
	for _, c := range changes {
		if c.New == nil {
			if err := os.Remove(c.Path); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyModule copies the module tree at src to dst, which must not exist or
// be empty. Version control directories are left out, and so is dst when
// it lies inside src.
func copyModule(src, dst string) error {
	if ents, err := os.ReadDir(dst); err == nil && len(ents) > 0 {
		return fmt.Errorf("%s is not empty", dst)
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dst {
			return filepath.SkipDir
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".hg" || d.Name() == ".svn") && path != src {
			return filepath.SkipDir
		}
		r, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, r)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case info.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, data, info.Mode().Perm()); err != nil {
				return err
			}
			// Keep modification times: programs compare them (fasthttp
			// serves a compressed copy of a file unless the file is
			// newer), and a copy made now would look newer than its
			// caches, or the same age as its rewritten neighbours.
			return os.Chtimes(target, info.ModTime(), info.ModTime())
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		}
		return nil
	})
}
