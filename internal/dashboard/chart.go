package dashboard

import (
	"fmt"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// chartDays is how many days the dashboard's chart covers, today included.
const chartDays = 30

// The chart's drawing area, in SVG user units: two bands of bars, volume
// above and counts below, each bar one day.
const (
	chartWidth  = 600
	chartTop    = 18  // room for the volume band's label
	volumeBand  = 110 // tallest volume bar
	bandGap     = 30  // between the bands, room for the count label
	countBand   = 50  // tallest count bar
	chartHeight = chartTop + volumeBand + bandGap + countBand + 18
	barStep     = chartWidth / chartDays
	barWidth    = barStep - 4
)

// chart is one book's daily volume and payment counts, laid out for the
// template, which draws it as inline SVG with a table beside it.
type chart struct {
	Book              ledger.Book
	Width, Height     int
	Top, CountTop     int // where the volume and count bands start
	AxisY             int // the date labels' baseline
	Bars              []chartBar
	Days              []chartDay // days with payments, for the table
	MaxVolume, Volume string
	MaxCount, Count   int64
	FirstDay, LastDay string
}

// chartBar is one day's two bars; a zero height draws nothing.
type chartBar struct {
	X, W             int
	VolumeY, VolumeH int
	CountY, CountH   int
	Label            string // the tooltip: date, volume and count
}

// chartDay is a row of the table under the chart.
type chartDay struct {
	Date, Volume, Refunded string
	Count                  int64
}

// newChart lays out days (oldest first) as bars scaled to the largest day.
func newChart(book ledger.Book, days []store.DayTotal) chart {
	c := chart{Book: book, Width: chartWidth, Height: chartHeight, Top: chartTop, CountTop: chartTop + volumeBand + bandGap,
		AxisY: chartHeight - 4}
	var maxVolume money.Paisa
	var volume money.Paisa
	for _, d := range days {
		maxVolume, c.MaxCount = max(maxVolume, d.Amount), max(c.MaxCount, d.Count)
		volume += d.Amount
		c.Count += d.Count
	}
	c.MaxVolume, c.Volume = maxVolume.String(), volume.String()
	if len(days) > 0 {
		c.FirstDay, c.LastDay = days[0].Day.Format("Jan 2"), days[len(days)-1].Day.Format("Jan 2")
	}
	for i, d := range days {
		b := chartBar{X: i*barStep + 2, W: barWidth,
			Label: fmt.Sprintf("%s: %s, %d payment%s", d.Day.Format("Mon Jan 2"), d.Amount, d.Count, plural(d.Count))}
		if maxVolume > 0 {
			b.VolumeH = scale(int64(d.Amount), int64(maxVolume), volumeBand)
		}
		if c.MaxCount > 0 {
			b.CountH = scale(d.Count, c.MaxCount, countBand)
		}
		b.VolumeY = chartTop + volumeBand - b.VolumeH
		b.CountY = c.CountTop + countBand - b.CountH
		c.Bars = append(c.Bars, b)
		if d.Count > 0 {
			c.Days = append(c.Days, chartDay{Date: d.Day.Format("2006-01-02"), Volume: d.Amount.String(), Refunded: d.Refunded.String(), Count: d.Count})
		}
	}
	return c
}

// scale maps v of max onto [0, height], keeping any non-zero value at
// least one unit tall so that a small day still shows.
func scale(v, top int64, height int) int {
	if v <= 0 {
		return 0
	}
	// Amounts reach 10^13 paisa: scale in floating point, not v*height.
	h := int(float64(v) / float64(top) * float64(height))
	return min(max(h, 1), height)
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// feeRow is one tier of a fee schedule as shown.
type feeRow struct {
	Amounts, Price string
}

// feeSchedule is one book's fee schedule as shown.
type feeSchedule struct {
	Book  ledger.Book
	Tiers []feeRow
}

func feeSchedules(fees map[ledger.Book][]store.FeeTier, books []ledger.Book) []feeSchedule {
	var out []feeSchedule
	for _, b := range books {
		s := feeSchedule{Book: b}
		for _, t := range fees[b] {
			s.Tiers = append(s.Tiers, feeRow{Amounts: payment.FeeRange(t), Price: payment.FeePrice(t)})
		}
		out = append(out, s)
	}
	return out
}
