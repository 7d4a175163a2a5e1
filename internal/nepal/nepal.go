// Package nepal is Nepal's clock as Thaili shows it: Nepal Standard
// Time, UTC+05:45 all year (no daylight saving), which is also what
// Khalti's timestamps use and how days are counted for totals and charts.
package nepal

import "time"

// Zone is Nepal Standard Time.
var Zone = time.FixedZone("+0545", 5*3600+45*60)

// Minute formats t in Nepal to the minute, as notices and pages show it:
// "2006-01-02 15:04".
func Minute(t time.Time) string { return t.In(Zone).Format("2006-01-02 15:04") }
