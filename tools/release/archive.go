package main

import (
	"archive/tar"
	"archive/zip"
	"compress/flate"
	"compress/gzip"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// member is one file of an archive.
type member struct {
	Name string      // slash-separated path inside the archive
	Mode fs.FileMode // permission bits: 0o755 for programs, 0o644 for the rest
	Data []byte
}

// layout returns members sorted by name with an entry for every directory
// above them (before its contents), so that an archive's bytes depend on
// its files alone and never on the order they were found in.
func layout(members []member) []member {
	dirs := map[string]bool{}
	var all []member
	for _, m := range members {
		for d := path.Dir(m.Name); d != "." && d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			all = append(all, member{Name: d + "/", Mode: fs.ModeDir | 0o755})
		}
		all = append(all, m)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all
}

// writeTarGz writes members as a gzipped tar archive: sorted entries, every
// time mtime, owner and group 0 (root), fixed modes, and a gzip header with
// no name or time, as reproducible-builds.org/docs/archives describes.
func writeTarGz(w io.Writer, members []member, mtime time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, m := range layout(members) {
		h := &tar.Header{
			Name:    m.Name,
			Mode:    int64(m.Mode.Perm()),
			ModTime: mtime.UTC(),
			Uname:   "root",
			Gname:   "root",
		}
		if m.Mode.IsDir() {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(m.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(m.Data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// writeZip writes members as a zip archive (for Windows), with the same
// rules as writeTarGz.
func writeZip(w io.Writer, members []member, mtime time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	for _, m := range layout(members) {
		h := &zip.FileHeader{Name: m.Name, Modified: mtime.UTC(), Method: zip.Deflate}
		if m.Mode.IsDir() {
			h.Method = zip.Store
		}
		h.SetMode(m.Mode)
		f, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := f.Write(m.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// archiveName is the base name (no extension) of a target's archive, and
// the directory every member sits in.
func archiveName(version string, t target) string {
	return strings.Join([]string{name, version, t.OS, t.Arch}, "_")
}
