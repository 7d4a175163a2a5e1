package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocCitations: every "docs/<page>.md" the code, tests, assets and
// notes cite exists, and every "docs/khalti.md §N" or "§N.M" names a
// section (a "## N." heading) or a numbered item in it, so a citation
// cannot point at something that was renumbered away.
func TestDocCitations(t *testing.T) {
	root := filepath.Join("..", "..")
	khalti, err := os.ReadFile(filepath.Join(root, "docs", "khalti.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	current := ""
	for line := range strings.SplitSeq(string(khalti), "\n") {
		if m := regexp.MustCompile(`^## (\d+)\. `).FindStringSubmatch(line); m != nil {
			current = m[1]
			sections[current] = true
		} else if m := regexp.MustCompile(`^(\d+)\. `).FindStringSubmatch(line); m != nil && current != "" {
			sections[current+"."+m[1]] = true
		}
	}
	if len(sections) < 20 {
		t.Fatalf("found only %d sections and items in docs/khalti.md", len(sections))
	}
	page := regexp.MustCompile(`docs/([a-z]+)\.md((?: §\d+(?:\.\d+)?,?(?: and)?)*)`)
	section := regexp.MustCompile(`§(\d+(?:\.\d+)?)`)
	cited := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".js", ".html":
		default:
			return nil
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range page.FindAllStringSubmatch(string(text), -1) {
			if _, err := os.Stat(filepath.Join(root, "docs", m[1]+".md")); err != nil {
				t.Errorf("%s cites docs/%s.md, which does not exist", path, m[1])
			}
			for _, s := range section.FindAllStringSubmatch(m[2], -1) {
				cited++
				if m[1] != "khalti" || !sections[s[1]] {
					t.Errorf("%s cites docs/%s.md §%s, which is not a section of it", path, m[1], s[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited < 30 {
		t.Errorf("only %d section citations found; the scan is not reading the tree", cited)
	}
}
