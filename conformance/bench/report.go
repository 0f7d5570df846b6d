package bench

import (
	"bufio"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// MeasureVerify times ed25519.Verify of a transaction-sized message on this
// machine: at least minIters calls and at least minTime. It returns the
// time of one call.
func MeasureVerify(minIters int, minTime time.Duration) time.Duration {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	msg := make([]byte, DefaultTxSize-ed25519.SignatureSize)
	sig := ed25519.Sign(key, msg)
	start := time.Now()
	n := 0
	ok := true
	for n < minIters || time.Since(start) < minTime {
		ok = ed25519.Verify(pub, msg, sig) && ok
		n++
		if n >= 1<<24 {
			break
		}
	}
	el := time.Since(start)
	if !ok || n == 0 {
		return 0
	}
	return el / time.Duration(n)
}

// VerifyBound is the throughput at which verifying every decided
// transaction on every one of n members saturates cores:
// cores / (n × verify).
func VerifyBound(cores, n int, verify time.Duration) float64 {
	if verify <= 0 || n <= 0 {
		return 0
	}
	return float64(cores) / (float64(n) * verify.Seconds())
}

// Row is one line of the report table.
type Row struct {
	Mode   string // "A", "B", "C", or a label such as "A out-of-process"
	Res    Result
	Reps   int
	Ref    float64 // reference tx/s for the comparison column, 0 for none
	RefTag string  // what Ref is, e.g. "ref" or "bound"
}

// Table renders rows as a markdown table.
func Table(rows []Row) string {
	var b strings.Builder
	b.WriteString("| mode | N | f | silent | B/N | unique tx/s | ms/epoch | p50 ms | p99 ms | msgs/epoch | KiB/epoch | CPU s/epoch | dup | comparison |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		x := r.Res
		cmp := "—"
		if r.Ref > 0 {
			cmp = fmt.Sprintf("%.0f%% of %s %s", 100*x.TxPerSec()/r.Ref, r.RefTag, group(r.Ref))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %.1f | %.1f | %.1f | %s | %s | %.3f | %d | %s |\n",
			r.Mode, x.N, x.Faulty, x.Silent, x.TxPerNode, group(x.TxPerSec()), x.MsPerEpoch(),
			ms(x.Latency(0.5)), ms(x.Latency(0.99)), group(x.MessagesPerEpoch()),
			group(x.BytesPerEpoch()/1024), x.CPUPerEpoch(), x.DuplicateTxs, cmp)
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// group formats v rounded to an integer with thousands separators.
func group(v float64) string {
	n := int64(v + 0.5)
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// Section markers delimiting the generated part of docs/benchmarks.md.
const (
	SectionBegin = "<!-- bench:consensus -->"
	SectionEnd   = "<!-- /bench:consensus -->"
)

// ReplaceSection returns doc with the text between the section markers
// replaced by body, or doc with a marked section appended if it has none.
func ReplaceSection(doc, body string) (string, error) {
	body = strings.TrimRight(body, "\n") + "\n"
	i := strings.Index(doc, SectionBegin)
	j := strings.Index(doc, SectionEnd)
	switch {
	case i < 0 && j < 0:
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		return doc + "\n" + SectionBegin + "\n" + body + SectionEnd + "\n", nil
	case i < 0 || j < i:
		return "", errors.New("benchmark section markers are missing or out of order")
	}
	return doc[:i+len(SectionBegin)] + "\n" + body + doc[j:], nil
}

// UpdateDoc rewrites the marked section of the markdown file at path with
// body, creating the file with intro first if it does not exist.
func UpdateDoc(path, intro, body string) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw, err = []byte(intro), nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	doc, err := ReplaceSection(string(raw), body)
	if err != nil {
		return fmt.Errorf("update %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("update %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

// CPUModel returns the first "model name" of /proc/cpuinfo, or "unknown".
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
