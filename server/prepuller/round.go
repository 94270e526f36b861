package prepuller

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/nublado-go/nublado/images"
)

// errNodeRemoved cancels the prepulls of a node that went away.
var errNodeRemoved = errors.New("node removed")

// RoundResult says what a prepull round did.
type RoundResult struct {
	// Nodes is the number of nodes that had images to pull.
	Nodes int
	// Pods is the number of prepull pods created, replacements included.
	Pods int
	// Replaced is the number of pods that existed already under the name
	// of a new prepull pod and were deleted first.
	Replaced int
	// Succeeded and Failed count the prepulls by outcome.
	Succeeded, Failed int
	// Deferred is the number of images left out on a node because they
	// failed to prepull there recently (decision D13).
	Deferred int
	// Abandoned is the number of prepulls cut short or not started
	// because their node went away.
	Abandoned int
	// Duration is the round's wall time.
	Duration time.Duration
}

func (r *RoundResult) add(o RoundResult) {
	r.Nodes += o.Nodes
	r.Pods += o.Pods
	r.Replaced += o.Replaced
	r.Succeeded += o.Succeeded
	r.Failed += o.Failed
	r.Abandoned += o.Abandoned
}

// log writes one line about the round: Info when it pulled anything,
// Debug otherwise.
func (r RoundResult) log(log *logrus.Entry) {
	e := log.WithFields(logrus.Fields{
		"nodes": r.Nodes, "pods": r.Pods, "succeeded": r.Succeeded, "failed": r.Failed,
		"deferred": r.Deferred, "abandoned": r.Abandoned, FieldDuration: r.Duration.Milliseconds(),
	})
	if r.Pods > 0 || r.Deferred > 0 {
		e.Info("Finished prepull round")
		return
	}
	e.Debug("Finished prepull round")
}

// nodePlan is what one node pulls in a round, in order.
type nodePlan struct {
	node   string
	images []*images.Image
}

// Round prepulls once on the catalog of the last refresh (§5.7 with
// decisions D12 and D13). For every eligible node (ineligible ones are
// left alone and keep their comment in the status) it takes the images of
// the prepull set the node lacks (one per digest, the versioned image
// rather than an alias, in catalog order), minus those in backoff after
// recent failures there. Nodes are served in parallel, at most
// [WithNodeWorkers] at a time; each pulls its images one after the other,
// each with one pod in the controller's namespace that must end within
// images.prepullTimeout: the pod is created (an existing pod of the same
// name is deleted first), followed until its phase is no longer Unknown,
// Pending or Running or it is gone, and deleted without waiting.
//
// A pod that succeeded marks the image present on the node in the current
// catalog, so the status and menus show it at once ("Prepulled image" is
// logged). Anything else is a failure: "Failed to prepull image" is
// logged with the error, the image is not marked, and it is tried again
// in a later round with exponential backoff (the next round after a first
// failure, then skipping 1, 3, 7, ... rounds, at most
// [WithMaxBackoffRounds]). A node that goes away during the round ends its
// prepulls quietly. Round fails only when there is no catalog yet
// ([ErrNoCatalog]), before [Puller.Start], or when ctx ends. Rounds are
// serialised.
func (p *Puller) Round(ctx context.Context) (RoundResult, error) {
	start := time.Now()
	if !p.started.Load() {
		return RoundResult{}, errPullerNotStarted
	}
	p.roundMu.Lock()
	defer p.roundMu.Unlock()
	cat := p.images.Catalog()
	if cat == nil {
		return RoundResult{}, ErrNoCatalog
	}
	plans, deferred := p.plan(cat)
	results := make([]RoundResult, len(plans))
	slots := make(chan struct{}, p.o.workers)
	var wg sync.WaitGroup
	for i, np := range plans {
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-slots }()
			results[i] = p.pullNode(ctx, cat, np)
		})
	}
	wg.Wait()
	res := RoundResult{Deferred: deferred}
	for _, r := range results {
		res.add(r)
	}
	res.Duration = time.Since(start)
	p.o.metrics.round(res.Duration)
	return res, ctx.Err()
}

// plan lists what each eligible node pulls this round and counts the
// images deferred by backoff.
func (p *Puller) plan(cat *images.Catalog) (plans []nodePlan, deferred int) {
	missing := map[pullKey]bool{}
	for _, n := range cat.Nodes() {
		if !n.Eligible {
			continue
		}
		np := nodePlan{node: n.Name}
		for _, img := range cat.Missing(n.Name) {
			k := pullKey{node: n.Name, digest: img.Digest}
			missing[k] = true
			if !p.backoff.due(k) {
				deferred++
				continue
			}
			np.images = append(np.images, img)
		}
		if len(np.images) > 0 {
			plans = append(plans, np)
		}
	}
	p.backoff.retain(missing)
	return plans, deferred
}

// pullNode pulls a node's images one after the other, until the node goes
// away or ctx ends.
func (p *Puller) pullNode(ctx context.Context, cat *images.Catalog, np nodePlan) RoundResult {
	res := RoundResult{Nodes: 1}
	log := p.log.WithField(FieldNode, np.node)
	removed := p.nodes.Removed(np.node)
	select {
	case <-removed:
		log.Debug("Node removed before its prepulls")
		res.Abandoned = len(np.images)
		return res
	default:
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-removed:
			cancel(errNodeRemoved)
		case <-ctx.Done():
		}
	}()
	log.WithField("images", references(np.images)).Info("Beginning prepulls for node")
	for i, img := range np.images {
		if ctx.Err() != nil {
			return p.stopped(ctx, log, res, len(np.images)-i)
		}
		o := p.pullOne(ctx, np.node, img)
		res.Pods += o.pods
		res.Replaced += o.replaced
		if o.err != nil && ctx.Err() != nil {
			return p.stopped(ctx, log, res, len(np.images)-i)
		}
		p.record(cat, log, np.node, img, o, &res)
	}
	return res
}

// record logs and counts the outcome of a prepull, marks a pulled image
// present and keeps the backoff of a failed one.
func (p *Puller) record(cat *images.Catalog, log *logrus.Entry, node string, img *images.Image, o pullOutcome, res *RoundResult) {
	p.o.metrics.prepulled(o.err == nil, o.duration)
	log = log.WithFields(logrus.Fields{FieldImage: img.Reference(), FieldDuration: o.duration.Milliseconds()})
	k := pullKey{node: node, digest: img.Digest}
	if o.err != nil {
		res.Failed++
		skip := p.backoff.failed(k)
		log.WithError(o.err).WithField("skip_rounds", skip).Error("Failed to prepull image")
		p.o.reporter.Report("", o.err)
		return
	}
	res.Succeeded++
	p.backoff.succeeded(k)
	p.markPulled(cat, node, img.Digest)
	log.Info("Prepulled image")
}

// references returns the references of images.
func references(imgs []*images.Image) []string {
	refs := make([]string, len(imgs))
	for i, img := range imgs {
		refs[i] = img.Reference()
	}
	return refs
}

// stopped ends the prepulls of a node whose context ended with n images
// left: quietly when the node went away, silently when the round ends.
func (p *Puller) stopped(ctx context.Context, log *logrus.Entry, res RoundResult, n int) RoundResult {
	if errors.Is(context.Cause(ctx), errNodeRemoved) {
		log.WithField("abandoned", n).Info("Node removed, ending its prepulls")
		res.Abandoned += n
	}
	return res
}

// markPulled records that a node has an image, in the round's catalog and
// in the current one if a refresh replaced it meanwhile.
func (p *Puller) markPulled(cat *images.Catalog, node, digest string) {
	cat.MarkImageSeenOnNode(digest, node)
	if cur := p.images.Catalog(); cur != nil && cur != cat {
		cur.MarkImageSeenOnNode(digest, node)
	}
}
