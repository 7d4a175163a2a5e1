package main

// CPU accounting for `thaili bench --cpu LABEL=PID`: the CPU time that
// processes outside bench (the server, the database) spend while the
// payers run, read from Linux's /proc before the payers start and after
// they stop, so setup and the final ledger check are left out. Dividing
// by the payments completed gives what one payment costs each of them,
// which throughput alone hides on a machine whose cores they share.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// benchCPUTarget is one --cpu LABEL=PID: the process PID and its
// descendants, reported as LABEL.
type benchCPUTarget struct {
	label string
	pid   int
}

// benchCPUFlag collects the repeated --cpu flag.
type benchCPUFlag []benchCPUTarget

// benchCPULabel is what a --cpu label may be: it is printed in the
// report's "cpu:" line, which scripts parse by label.
var benchCPULabel = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// benchSelfLabel names bench's own CPU in the report; no --cpu may take it.
const benchSelfLabel = "bench"

// String implements flag.Value.
func (f *benchCPUFlag) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(*f))
	for i, t := range *f {
		parts[i] = fmt.Sprintf("%s=%d", t.label, t.pid)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value: it checks the form LABEL=PID and that no
// label is given twice; whether the process exists is checked later,
// with the platform (benchCheckCPU).
func (f *benchCPUFlag) Set(s string) error {
	label, pidText, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want LABEL=PID, as in server=1234")
	}
	if !benchCPULabel.MatchString(label) {
		return fmt.Errorf("label %q: want lower-case letters, digits, - and _, starting with a letter, at most 32", label)
	}
	if label == benchSelfLabel {
		return fmt.Errorf("label %q is taken: the report shows bench's own CPU under it", label)
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid < 1 {
		return fmt.Errorf("PID %q: want a process id, a whole number from 1", pidText)
	}
	for _, t := range *f {
		if t.label == label {
			return fmt.Errorf("label %q given twice", label)
		}
	}
	*f = append(*f, benchCPUTarget{label: label, pid: pid})
	return nil
}

// benchCheckCPU refuses --cpu where it cannot be measured: anywhere but
// Linux (goos is runtime.GOOS), or where root (normally /proc) is not
// mounted, or when a process named does not exist.
func benchCheckCPU(goos, root string, targets []benchCPUTarget) error {
	if len(targets) == 0 {
		return nil
	}
	if goos != "linux" {
		return fmt.Errorf("--cpu reads CPU times from Linux's /proc, and this is %s", goos)
	}
	if _, err := os.Stat(filepath.Join(root, "self", "stat")); err != nil {
		return fmt.Errorf("--cpu reads CPU times from %s, which is not readable here: %v", root, err)
	}
	for _, t := range targets {
		if _, err := readProcStat(root, strconv.Itoa(t.pid)); err != nil {
			return fmt.Errorf("--cpu %s=%d: no such process: %v", t.label, t.pid, err)
		}
	}
	return nil
}

// procStat is what bench reads of one /proc/PID/stat (see proc(5)).
type procStat struct {
	pid, ppid int
	comm      string
	// utime and stime are the process's own user and system CPU time
	// (all its threads, live or ended); cutime and cstime those of its
	// children that it has waited for, and of theirs, in clock ticks.
	utime, stime, cutime, cstime uint64
}

// ticks is all the CPU time the process and its reaped descendants have used.
func (s procStat) ticks() uint64 { return s.utime + s.stime + s.cutime + s.cstime }

// parseProcStat parses one /proc/PID/stat line. The second field, comm,
// is the executable's name in parentheses, and that name may itself hold
// spaces and parentheses, so it runs from the first "(" to the last ")";
// the fields after it never contain one.
func parseProcStat(line string) (procStat, error) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("malformed stat line %q", benchTruncate(line, 80))
	}
	var s procStat
	var err error
	if s.pid, err = strconv.Atoi(strings.TrimSpace(line[:open])); err != nil {
		return procStat{}, fmt.Errorf("malformed pid in stat line %q", benchTruncate(line, 80))
	}
	s.comm = line[open+1 : end]
	// After comm: state (field 3), ppid (4), ... utime (14), stime (15),
	// cutime (16), cstime (17).
	f := strings.Fields(line[end+1:])
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("stat line of process %d has %d fields after comm, want at least 15", s.pid, len(f))
	}
	if s.ppid, err = strconv.Atoi(f[1]); err != nil {
		return procStat{}, fmt.Errorf("stat line of process %d: ppid %q", s.pid, f[1])
	}
	for i, dst := range []*uint64{&s.utime, &s.stime, &s.cutime, &s.cstime} {
		// cutime and cstime are signed in the kernel; never negative in practice.
		v, err := strconv.ParseInt(f[11+i], 10, 64)
		if err != nil || v < 0 {
			return procStat{}, fmt.Errorf("stat line of process %d: field %d is %q", s.pid, 14+i, f[11+i])
		}
		*dst = uint64(v)
	}
	return s, nil
}

// readProcStat reads and parses root/name/stat (name is a pid or "self").
func readProcStat(root, name string) (procStat, error) {
	b, err := os.ReadFile(filepath.Join(root, name, "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(strings.TrimSpace(string(b)))
}

// procTreeTicks returns the CPU time, in clock ticks, that process pid
// and all its descendants have used so far: utime+stime+cutime+cstime of
// pid and of every live descendant. A child's time moves into its
// parent's cutime/cstime when the parent reaps it, so every process that
// ever ran under pid counts exactly once, and the difference of two
// readings is what the tree used in between, whatever started or ended
// in it. (A child reaped between the reading of its own stat and its
// parent's would count twice; postmaster children live for a connection
// and the Go server starts none, so that is rare and small.)
//
// Descendants are found through the ppid of every process in root, so
// root may be a fake /proc for tests.
func procTreeTicks(root string, pid int) (uint64, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return 0, err
	}
	stats := map[int]procStat{}
	children := map[int][]int{}
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err != nil || n < 1 {
			continue // not a process: self, sys, meminfo, ...
		}
		s, err := readProcStat(root, e.Name())
		if err != nil {
			continue // ended since the directory was read, or unreadable
		}
		stats[s.pid] = s
		children[s.ppid] = append(children[s.ppid], s.pid)
	}
	if _, ok := stats[pid]; !ok {
		return 0, fmt.Errorf("process %d is gone", pid)
	}
	var total uint64
	seen := map[int]bool{}
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		p := queue[0]
		if seen[p] {
			continue // a ppid loop can only come from a fake /proc; do not spin
		}
		seen[p] = true
		total += stats[p].ticks()
		queue = append(queue, children[p]...)
	}
	return total, nil
}

// atClockTick is AT_CLKTCK, the auxiliary vector entry that holds the
// kernel's clock ticks per second (USER_HZ), see getauxval(3).
const atClockTick = 17

// procClockTicks returns the ticks per second of /proc's CPU times. Go's
// standard library has no sysconf(_SC_CLK_TCK), so it reads AT_CLKTCK
// from root/self/auxv, pairs of native words (type, value) ending with
// type 0; failing that, 100, which is USER_HZ on every Linux
// architecture Go supports (`getconf CLK_TCK`).
func procClockTicks(root string) uint64 {
	b, err := os.ReadFile(filepath.Join(root, "self", "auxv"))
	if err != nil {
		return 100
	}
	word := strconv.IntSize / 8
	for i := 0; i+2*word <= len(b); i += 2 * word {
		var typ, val uint64
		if word == 8 {
			typ, val = binary.NativeEndian.Uint64(b[i:]), binary.NativeEndian.Uint64(b[i+8:])
		} else {
			typ, val = uint64(binary.NativeEndian.Uint32(b[i:])), uint64(binary.NativeEndian.Uint32(b[i+4:]))
		}
		if typ == 0 {
			break
		}
		if typ == atClockTick && val > 0 {
			return val
		}
	}
	return 100
}

// benchCPU measures the --cpu targets and bench itself over the payers' run.
type benchCPU struct {
	root    string // /proc, or a fake one in tests
	hz      uint64 // clock ticks per second
	targets []benchCPUTarget
	self    bool // root/self/stat is readable: bench reports its own CPU
}

// newBenchCPU prepares the measurement: bench's own CPU whenever root is
// readable, the targets only when given (benchCheckCPU has checked them).
func newBenchCPU(root string, targets []benchCPUTarget) *benchCPU {
	_, err := readProcStat(root, "self")
	if err != nil && len(targets) == 0 {
		return nil
	}
	return &benchCPU{root: root, hz: procClockTicks(root), targets: targets, self: err == nil}
}

// benchCPUReading is one reading of every target and of bench: ticks,
// or why a target could not be read.
type benchCPUReading struct {
	ticks []uint64
	errs  []error
	self  uint64
}

// read takes a reading. Bench's own time is its process's alone (all
// its goroutines' threads): it starts no children.
func (c *benchCPU) read() benchCPUReading {
	r := benchCPUReading{ticks: make([]uint64, len(c.targets)), errs: make([]error, len(c.targets))}
	for i, t := range c.targets {
		r.ticks[i], r.errs[i] = procTreeTicks(c.root, t.pid)
	}
	if c.self {
		if s, err := readProcStat(c.root, "self"); err == nil {
			r.self = s.utime + s.stime
		}
	}
	return r
}

// write prints the CPU used between before and after, per payment and in
// all, one "cpu:" line that scripts parse, e.g.
//
//	cpu: server 0.412 ms/payment (4.12 s), db 1.234 ms/payment (12.34 s), bench 0.300 ms/payment (3.00 s)
//
// A target that could not be read shows "n/a", and why on its own line.
func (c *benchCPU) write(out io.Writer, before, after benchCPUReading, completed int64) {
	if c == nil {
		return
	}
	var parts, notes []string
	figure := func(label string, from, to uint64) string {
		var secs float64
		if to > from { // a counter never goes back; a recycled pid could
			secs = float64(to-from) / float64(c.hz)
		}
		if completed == 0 {
			return fmt.Sprintf("%s n/a ms/payment (%.2f s)", label, secs)
		}
		return fmt.Sprintf("%s %.3f ms/payment (%.2f s)", label, 1000*secs/float64(completed), secs)
	}
	for i, t := range c.targets {
		if err := errors.Join(before.errs[i], after.errs[i]); err != nil {
			parts = append(parts, t.label+" n/a")
			notes = append(notes, fmt.Sprintf("cpu of %s (pid %d) not measured: %v", t.label, t.pid, err))
			continue
		}
		parts = append(parts, figure(t.label, before.ticks[i], after.ticks[i]))
	}
	if c.self {
		parts = append(parts, figure(benchSelfLabel, before.self, after.self))
	}
	fmt.Fprintf(out, "cpu: %s\n", strings.Join(parts, ", "))
	for _, n := range notes {
		fmt.Fprintln(out, "  ", strings.ReplaceAll(n, "\n", "; "))
	}
}
