package graph

import "hash/fnv"

// A colour is how the boxes of one resource type are painted.
type colour struct{ Fill, Stroke string }

// palette holds soft fills with darker borders of the same hue. Red is
// kept out: it marks leaks.
var palette = []colour{
	{"#dbeafe", "#2563eb"}, // blue
	{"#fef3c7", "#b45309"}, // amber
	{"#ffedd5", "#c2410c"}, // orange
	{"#fef9c3", "#a16207"}, // yellow
	{"#ecfccb", "#4d7c0f"}, // lime
	{"#dcfce7", "#15803d"}, // green
	{"#ede9fe", "#6d28d9"}, // violet
	{"#f3e8ff", "#7e22ce"}, // purple
	{"#e0e7ff", "#4338ca"}, // indigo
	{"#fae8ff", "#a21caf"}, // fuchsia
	{"#cffafe", "#0e7490"}, // cyan
	{"#ccfbf1", "#0f766e"}, // teal
	{"#e0f2fe", "#0369a1"}, // sky
	{"#fce7f3", "#be185d"}, // pink
	{"#d1fae5", "#047857"}, // emerald
	{"#f5f5f4", "#57534e"}, // stone
}

// grey paints the root, the unknown context and resources of unknown type.
var grey = colour{"#f3f4f6", "#4b5563"}

// known gives the runtime's own types (runtime/hooksrt's providers) fixed
// colours, so that a GOROUTINE is blue in every picture.
var known = map[string]int{
	"GOROUTINE":           0,
	"Timeout":             1,
	"TIMER":               2,
	"TICKER":              3,
	"CONTEXTAFTERFUNC":    4,
	"CHANSEND":            5,
	"TCPSERVERWRAP":       6,
	"TCPWRAP":             7,
	"TCPCONNECTWRAP":      8,
	"PIPESERVERWRAP":      9,
	"PIPEWRAP":            9,
	"PIPECONNECTWRAP":     9,
	"HTTPINCOMINGMESSAGE": 10,
	"HTTPCLIENTREQUEST":   11,
	"GETADDRINFOREQWRAP":  12,
	"UDPWRAP":             12,
	"POOLTASK":            13,
}

// colourOf returns the colour of a resource type: a fixed one for the
// runtime's types, one chosen by a hash of the name for the others, so
// that a type keeps its colour from one run to the next.
func colourOf(typ string) colour {
	switch typ {
	case "ROOT", "UNKNOWN", "?":
		return grey
	}
	if i, ok := known[typ]; ok {
		return palette[i]
	}
	h := fnv.New32a()
	h.Write([]byte(typ))
	return palette[h.Sum32()%uint32(len(palette))]
}
