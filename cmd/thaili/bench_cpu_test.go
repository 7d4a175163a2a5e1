package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// benchStatLine is a /proc/PID/stat line with the given comm, ppid and
// times; the other fields are what a real line holds.
func benchStatLine(pid int, comm string, ppid int, utime, stime, cutime, cstime uint64) string {
	return fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194560 1234 0 5 0 %d %d %d %d 20 0 9 0 123456 1234567 890 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0",
		pid, comm, ppid, pid, pid, utime, stime, cutime, cstime)
}

// TestBenchParseProcStat reads the fields bench needs from a stat line,
// also when comm holds spaces and parentheses, and refuses broken lines.
func TestBenchParseProcStat(t *testing.T) {
	for _, comm := range []string{"postgres", "thaili serve", "a) b (c", ") S 1 2 (", "x)"} {
		s, err := parseProcStat(benchStatLine(4242, comm, 17, 111, 22, 3, 4))
		if err != nil {
			t.Errorf("comm %q: %v", comm, err)
			continue
		}
		want := procStat{pid: 4242, ppid: 17, comm: comm, utime: 111, stime: 22, cutime: 3, cstime: 4}
		if s != want {
			t.Errorf("comm %q: parsed %+v, want %+v", comm, s, want)
		}
		if s.ticks() != 140 {
			t.Errorf("comm %q: %d ticks, want 140", comm, s.ticks())
		}
	}
	for _, bad := range []string{
		"",
		"4242 postgres S 1", // no parentheses
		"x (postgres) S 1 2 3 0 -1 0 0 0 0 0 1 2 3 4", // pid not a number
		"4242 (postgres) S 1 2 3",                     // too few fields
		strings.Replace(benchStatLine(4242, "p", 1, 5, 6, 7, 8), " 5 6 7 8 ", " 5 x 7 8 ", 1),  // stime not a number
		strings.Replace(benchStatLine(4242, "p", 1, 5, 6, 7, 8), " 5 6 7 8 ", " 5 6 -7 8 ", 1), // negative
	} {
		if s, err := parseProcStat(bad); err == nil {
			t.Errorf("parsed %q as %+v, want an error", bad, s)
		}
	}
}

// benchFakeProc writes a /proc with the given stat lines, keyed by
// directory name, under a temporary directory and returns its root.
func benchFakeProc(t *testing.T, stats map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, line := range stats {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if line == "" {
			continue // a process that ended between readdir and reading its stat
		}
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestBenchProcTreeTicks sums a process's time with its live descendants'
// and its reaped ones' (its cutime/cstime), and leaves the rest out.
func TestBenchProcTreeTicks(t *testing.T) {
	stats := map[string]string{
		"1":    benchStatLine(1, "init", 0, 1000, 1000, 1000, 1000),
		"100":  benchStatLine(100, "postgres", 1, 10, 5, 3, 2),        // the target: 20
		"101":  benchStatLine(101, "postgres: idle", 100, 7, 1, 0, 0), // child: 8
		"102":  benchStatLine(102, "x) (y", 101, 4, 4, 1, 1),          // grandchild: 10
		"103":  benchStatLine(103, "postgres (z)", 100, 30, 0, 0, 0),  // child: 30
		"200":  benchStatLine(200, "other", 1, 500, 500, 0, 0),        // not under 100
		"201":  benchStatLine(201, "other child", 200, 50, 50, 0, 0),  // not under 100
		"300":  "garbage",                                             // unparsable: skipped
		"301":  "",                                                    // no stat: skipped
		"self": benchStatLine(999, "thaili", 1, 9, 9, 9, 9),
		"sys":  "",
	}
	root := benchFakeProc(t, stats)
	for pid, want := range map[int]uint64{100: 68, 101: 18, 102: 10, 200: 1100} {
		got, err := procTreeTicks(root, pid)
		if err != nil || got != want {
			t.Errorf("procTreeTicks(%d) = %d, %v; want %d", pid, got, err, want)
		}
	}

	// Child 103 ends and 100 reaps it: its 30 ticks move into 100's
	// cutime, and the tree's total stays the same.
	if err := os.RemoveAll(filepath.Join(root, "103")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "100", "stat"), []byte(benchStatLine(100, "postgres", 1, 10, 5, 33, 2)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := procTreeTicks(root, 100); err != nil || got != 68 {
		t.Errorf("after reaping: procTreeTicks(100) = %d, %v; want 68", got, err)
	}

	if _, err := procTreeTicks(root, 4242); err == nil || !strings.Contains(err.Error(), "4242 is gone") {
		t.Errorf("a process that does not exist: error %v, want one saying it is gone", err)
	}
	if _, err := procTreeTicks(filepath.Join(root, "missing"), 100); err == nil {
		t.Error("no /proc: no error")
	}
}

// benchAuxv encodes an auxiliary vector of native words.
func benchAuxv(pairs ...uint64) []byte {
	var b []byte
	for _, v := range pairs {
		if strconv.IntSize == 64 {
			b = binary.NativeEndian.AppendUint64(b, v)
		} else {
			b = binary.NativeEndian.AppendUint32(b, uint32(v))
		}
	}
	return b
}

// TestBenchClockTicks reads AT_CLKTCK from self/auxv, and falls back to
// Linux's 100 without it.
func TestBenchClockTicks(t *testing.T) {
	root := benchFakeProc(t, map[string]string{"self": ""})
	if got := procClockTicks(root); got != 100 {
		t.Errorf("without auxv: %d ticks/s, want 100", got)
	}
	auxv := filepath.Join(root, "self", "auxv")
	os.WriteFile(auxv, benchAuxv(6, 4096, atClockTick, 250, 0, 0), 0o644)
	if got := procClockTicks(root); got != 250 {
		t.Errorf("AT_CLKTCK 250: %d ticks/s", got)
	}
	// An entry after the terminating AT_NULL is not read.
	os.WriteFile(auxv, benchAuxv(6, 4096, 0, 0, atClockTick, 250), 0o644)
	if got := procClockTicks(root); got != 100 {
		t.Errorf("AT_CLKTCK after AT_NULL: %d ticks/s, want 100", got)
	}
	if runtime.GOOS == "linux" {
		if got := procClockTicks("/proc"); got == 0 || got > 10000 {
			t.Errorf("this machine's /proc: %d ticks/s", got)
		}
	}
}

// TestBenchCPUFlag checks --cpu's form, and refuses it where it cannot
// be measured: off Linux, without /proc, for a process that does not exist.
func TestBenchCPUFlag(t *testing.T) {
	var f benchCPUFlag
	for _, ok := range []string{"server=123", "db=4567", "pg-main_2=1"} {
		if err := f.Set(ok); err != nil {
			t.Errorf("--cpu %s: %v", ok, err)
		}
	}
	if got := f.String(); got != "server=123,db=4567,pg-main_2=1" {
		t.Errorf("String() = %q", got)
	}
	for bad, want := range map[string]string{
		"server":                       "LABEL=PID",
		"=12":                          "label",
		"Server=12":                    "label",
		"a b=12":                       "label",
		"bench=12":                     "taken",
		"x=":                           "PID",
		"x=0":                          "PID",
		"x=-3":                         "PID",
		"x=12abc":                      "PID",
		"server=99":                    "twice",
		strings.Repeat("a", 33) + "=1": "label",
	} {
		if err := f.Set(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--cpu %s: error %v, want one about %s", bad, err, want)
		}
	}
	if len(f) != 3 {
		t.Errorf("refused values were kept: %v", f.String())
	}

	root := benchFakeProc(t, map[string]string{
		"self": benchStatLine(7, "thaili", 1, 0, 0, 0, 0),
		"123":  benchStatLine(123, "thaili", 1, 0, 0, 0, 0),
	})
	one := []benchCPUTarget{{"server", 123}}
	if err := benchCheckCPU("linux", root, one); err != nil {
		t.Errorf("a process that exists: %v", err)
	}
	if err := benchCheckCPU("darwin", "/nonexistent", nil); err != nil {
		t.Errorf("no --cpu is never refused: %v", err)
	}
	for _, c := range []struct {
		goos, root string
		targets    []benchCPUTarget
		want       string
	}{
		{"darwin", root, one, "Linux"},
		{"windows", root, one, "Linux"},
		{"linux", filepath.Join(root, "none"), one, "not readable"},
		{"linux", root, []benchCPUTarget{{"server", 123}, {"db", 124}}, "--cpu db=124: no such process"},
	} {
		if err := benchCheckCPU(c.goos, c.root, c.targets); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s, %s, %v: error %v, want one saying %q", c.goos, c.root, c.targets, err, c.want)
		}
	}

	// On the command line a bad --cpu is a usage error, before any
	// server or database is touched.
	db := t.TempDir() + "/thaili.db"
	for _, arg := range []string{"server", "server=0", "bench=1", "server=99999999"} {
		out, err := runBench(t, "--url", "http://127.0.0.1:1", "--database-url", db, "--cpu", arg)
		if exitCode(err) != 2 || !strings.Contains(out+fmt.Sprint(err), "cpu") {
			t.Errorf("--cpu %s: exit %d, error %v, want exit 2 naming --cpu\n%s", arg, exitCode(err), err, out)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a bad --cpu touched the database")
	}
}

// TestBenchCPUReport prints per payment what each target and bench used
// between two readings, and n/a for a target that could not be read.
func TestBenchCPUReport(t *testing.T) {
	c := &benchCPU{hz: 100, targets: []benchCPUTarget{{"server", 1}, {"db", 2}, {"gone", 3}}, self: true}
	before := benchCPUReading{ticks: []uint64{100, 1000, 5}, errs: []error{nil, nil, nil}, self: 10}
	after := benchCPUReading{ticks: []uint64{150, 1200, 0}, errs: []error{nil, nil, fmt.Errorf("process 3 is gone")}, self: 30}
	var out bytes.Buffer
	c.write(&out, before, after, 1000)
	want := "cpu: server 0.500 ms/payment (0.50 s), db 2.000 ms/payment (2.00 s), gone n/a, bench 0.200 ms/payment (0.20 s)\n" +
		"   cpu of gone (pid 3) not measured: process 3 is gone\n"
	if out.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	c.targets, before.ticks, after.ticks = c.targets[:1], before.ticks[:1], after.ticks[:1]
	c.write(&out, before, after, 0)
	if want := "cpu: server n/a ms/payment (0.50 s), bench n/a ms/payment (0.20 s)\n"; out.String() != want {
		t.Errorf("no payment completed:\n%s\nwant:\n%s", out.String(), want)
	}
	var none *benchCPU
	out.Reset()
	none.write(&out, before, after, 10)
	if out.Len() != 0 {
		t.Errorf("no /proc and no --cpu: wrote %q", out.String())
	}
}
