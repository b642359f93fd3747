package graph

// Merge returns t with, under every node, the siblings that share type,
// site and leak status and have no children of their own drawn as one
// node that stands for all of them (its Members): ten thousand goroutines
// started by one loop become one box "×10000" instead of ten thousand
// rows. A merged node has the ID of its first member, the earliest Init,
// the sums of their run times and runs, and Destroyed when they all were.
// t itself is left as it is.
func Merge(t *Trace) *Trace {
	m := *t
	m.Roots = make([]*Node, len(t.Roots))
	for i, r := range t.Roots {
		m.Roots[i] = mergeTree(r)
	}
	return &m
}

// mergeKey is what merged siblings share.
type mergeKey struct {
	typ, site string
	leaked    bool
}

// mergeTree returns a copy of n whose subtrees are merged.
func mergeTree(n *Node) *Node {
	c := *n
	c.Children = nil
	groups := map[mergeKey]int{} // index in c.Children of each key's node
	for _, ch := range n.Children {
		if len(ch.Children) > 0 {
			c.Children = append(c.Children, mergeTree(ch))
			continue
		}
		k := mergeKey{ch.Type, ch.Site, ch.Leaked()}
		i, ok := groups[k]
		if !ok {
			groups[k] = len(c.Children)
			c.Children = append(c.Children, ch)
			continue
		}
		c.Children[i] = join(c.Children[i], ch)
	}
	return &c
}

// join adds the leaf ch to g, a leaf or a merged node of the same key.
func join(g, ch *Node) *Node {
	if g.Members == nil {
		first := g
		merged := *first
		merged.Members = []*Node{first}
		g = &merged
	}
	g.Members = append(g.Members, ch)
	g.Run += ch.Run
	g.Runs += ch.Runs
	g.Destroyed = g.Destroyed && ch.Destroyed
	return g
}
