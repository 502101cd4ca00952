package pipeline

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Stats describe one run: where the time went, per step. Busy is time spent
// in Process (summed over workers), WaitIn time blocked on an empty input,
// WaitOut time blocked on a full output. A step whose workers are busy all
// the time while its neighbours wait is the bottleneck.
type Stats struct {
	Wall  time.Duration
	Steps []StepStats // Steps[0] is the source
}

// StepStats are the figures of one step.
type StepStats struct {
	Name    string
	Workers int
	Items   int
	Busy    time.Duration
	WaitIn  time.Duration
	WaitOut time.Duration
	// queue depth in front of the step, sampled at each receive
	queueSum, queueN, QueueMax int
}

// QueueAvg is the mean queue depth in front of the step.
func (s *StepStats) QueueAvg() float64 {
	if s.queueN == 0 {
		return 0
	}
	return float64(s.queueSum) / float64(s.queueN)
}

func (s *StepStats) sampleQueue(n int) {
	s.queueSum += n
	s.queueN++
	if n > s.QueueMax {
		s.QueueMax = n
	}
}

func newStats[T Item](steps []Step[T]) *Stats {
	st := &Stats{Steps: make([]StepStats, len(steps)+1)}
	st.Steps[0] = StepStats{Name: "source", Workers: 1}
	for i, s := range steps {
		st.Steps[i+1] = StepStats{Name: s.Name, Workers: max(1, len(s.Workers))}
	}
	return st
}

// Add adds the figures of another run to s, step by step (matched by
// name; a step s does not have is appended): the totals of several runs,
// as batch prints them. Walls add up too, so a step's utilisation is its
// share of the runs' time. Workers and QueueMax keep the largest.
func (s *Stats) Add(o *Stats) {
	s.Wall += o.Wall
	for _, os := range o.Steps {
		i := slices.IndexFunc(s.Steps, func(st StepStats) bool { return st.Name == os.Name })
		if i < 0 {
			s.Steps = append(s.Steps, StepStats{Name: os.Name})
			i = len(s.Steps) - 1
		}
		st := &s.Steps[i]
		st.Workers, st.QueueMax = max(st.Workers, os.Workers), max(st.QueueMax, os.QueueMax)
		st.Items += os.Items
		st.Busy += os.Busy
		st.WaitIn += os.WaitIn
		st.WaitOut += os.WaitOut
		st.queueSum += os.queueSum
		st.queueN += os.queueN
	}
}

// Print writes the stats as a table.
func (s *Stats) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "stage\tworkers\titems\tbusy\tutil\twait in\twait out\tqueue avg\tqueue max\t\n")
	for _, st := range s.Steps {
		util := 0.0
		if s.Wall > 0 && st.Workers > 0 {
			util = 100 * st.Busy.Seconds() / (s.Wall.Seconds() * float64(st.Workers))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2fs\t%.0f%%\t%.2fs\t%.2fs\t%.1f\t%d\t\n",
			st.Name, st.Workers, st.Items, st.Busy.Seconds(), util, st.WaitIn.Seconds(), st.WaitOut.Seconds(), st.QueueAvg(), st.QueueMax)
	}
	fmt.Fprintf(tw, "wall\t\t\t%.2fs\t\t\t\t\t\t\n", s.Wall.Seconds())
	tw.Flush()
}
