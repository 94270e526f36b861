package prepuller_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/prepuller"
)

// standardNodes adds the nodes of the image tests, labelled value: a has
// every prepull-set image, b only the recommended one, c is tainted with a
// taint the lab does not tolerate (it has the daily), d tolerates its
// taint, and e is not selected.
func standardNodes(t *testing.T, value string, reg *registry) {
	t.Helper()
	labs := corev1.Taint{Key: "dedicated", Value: "labs", Effect: corev1.TaintEffectNoSchedule}
	other := corev1.Taint{Key: "dedicated", Value: "other", Effect: corev1.TaintEffectNoSchedule}
	addNodes(t,
		selected(value+"-a", value, reg.cached("r22_0_0", "w_2077_44", "w_2077_43", "d_2077_10_23")),
		selected(value+"-b", value, reg.cached("w_2077_43")),
		selected(value+"-c", value, reg.cached("d_2077_10_23"), other),
		selected(value+"-d", value, reg.cached("w_2077_43", "w_2077_44"), labs),
		selected(value+"-e", "someone-else", reg.cached("w_2077_43")),
	)
}

func TestRefreshServesImages(t *testing.T) {
	reg := startRegistry(t)
	cfg := loadConfig(t, "standard")
	standardNodes(t, "standard", reg)
	svc, _ := newService(t, cfg, reg, prepuller.WithClock(func() time.Time {
		return time.Date(2077, 11, 1, 0, 0, 0, 0, time.UTC)
	}))
	ctx := context.Background()

	require.Nil(t, svc.Catalog(), "no catalog before the first refresh")
	_, err := svc.SpawnerImages(ctx)
	require.ErrorIs(t, err, prepuller.ErrNoCatalog)

	require.NoError(t, svc.Refresh(ctx))
	select {
	case <-svc.Refreshed():
	default:
		t.Fatal("Refresh did not raise the refreshed signal")
	}

	body, err := svc.SpawnerImages(ctx)
	require.NoError(t, err)
	golden.Assert(t, reg.fakeJSON(t, body), "images.golden.json")
	body, err = svc.Prepulls(ctx)
	require.NoError(t, err)
	golden.Assert(t, reg.fakeJSON(t, body), "prepulls.golden.json")

	menu, dropdown, err := svc.LabFormImages(ctx)
	require.NoError(t, err)
	assert.Equal(t, []server.MenuEntry{
		{Reference: repository + ":recommended@sha256:w43", Name: "Recommended (Weekly 2077_43)"},
	}, fakeMenu(reg, menu), "LabFormImages menu: only the recommended image is on every eligible node")
	assert.Equal(t, []server.MenuEntry{
		{Reference: repository + ":recommended@sha256:w43", Name: "Recommended (Weekly 2077_43)"},
		{Reference: repository + ":r22_0_0@sha256:r22", Name: "Release r22.0.0"},
		{Reference: repository + ":r21_0_1", Name: "Release r21.0.1"},
		{Reference: repository + ":w_2077_44@sha256:w44", Name: "Weekly 2077_44"},
		{Reference: repository + ":w_2077_43@sha256:w43", Name: "Weekly 2077_43"},
		{Reference: repository + ":w_2077_42", Name: "Weekly 2077_42"},
		{Reference: repository + ":d_2077_10_23@sha256:d23", Name: "Daily 2077_10_23"},
		{Reference: repository + ":latest_weekly", Name: "latest_weekly"},
	}, fakeMenu(reg, dropdown), "LabFormImages dropdown: one daily (dropdownMenu.daily.number), no arch tags")
}

func fakeMenu(reg *registry, in []server.MenuEntry) []server.MenuEntry {
	out := make([]server.MenuEntry, 0, len(in))
	for _, e := range in {
		out = append(out, server.MenuEntry{Reference: reg.fake(e.Reference), Name: e.Name})
	}
	return out
}

func TestRefreshSeesNodeChanges(t *testing.T) {
	reg := startRegistry(t)
	cfg := loadConfig(t, "changes")
	c := addNodes(t,
		selected("changes-a", "changes", reg.cached("w_2077_43", "w_2077_44")),
		selected("changes-b", "changes", reg.cached("w_2077_43")),
	)
	svc, _ := newService(t, cfg, reg)
	ctx := context.Background()
	require.NoError(t, svc.Refresh(ctx))
	assert.Equal(t, []string{"Recommended (Weekly 2077_43)"}, menuNames(t, svc))

	// The kubelet of b reports the weekly: the informer sees it, and the
	// next refresh puts the weekly in the menu.
	require.NoError(t, c.SetNodeImages(ctx, "changes-b", reg.cached("w_2077_43", "w_2077_44")))
	require.Eventually(t, func() bool {
		require.NoError(t, svc.Refresh(ctx))
		return len(menuNames(t, svc)) == 2
	}, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, []string{"Recommended (Weekly 2077_43)", "Weekly 2077_44"}, menuNames(t, svc))

	// A new eligible node without the weekly makes it pending again; a
	// removed node is forgotten.
	addNodes(t, selected("changes-c", "changes", nil))
	require.NoError(t, c.RemoveNode(ctx, "changes-a"))
	require.Eventually(t, func() bool {
		require.NoError(t, svc.Refresh(ctx))
		nodes := svc.Catalog().Nodes()
		return len(nodes) == 2 && nodes[0].Name == "changes-b" && nodes[1].Name == "changes-c"
	}, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, []string{"Recommended (Weekly 2077_43)"}, menuNames(t, svc))
}

func menuNames(t *testing.T, svc *prepuller.Service) []string {
	t.Helper()
	menu, _, err := svc.LabFormImages(context.Background())
	require.NoError(t, err)
	var out []string
	for _, e := range menu {
		out = append(out, e.Name)
	}
	return out
}

// TestRegistryDownKeepsCatalog: a refresh that cannot reach the registry
// fails and the previous catalog keeps being served; the refreshes are
// counted by outcome.
func TestRegistryDownKeepsCatalog(t *testing.T) {
	reg := startRegistry(t)
	cfg := loadConfig(t, "down")
	addNodes(t, selected("down-a", "down", reg.cached("w_2077_43")))
	m := prepuller.NewMetrics(prometheus.NewRegistry())
	svc, _ := newService(t, cfg, reg, prepuller.WithMetrics(m))
	ctx := context.Background()
	require.NoError(t, svc.Refresh(ctx))
	<-svc.Refreshed()
	before, err := svc.SpawnerImages(ctx)
	require.NoError(t, err)

	reg.server.Close()
	err = svc.Refresh(ctx)
	require.Error(t, err, "Refresh with the registry down")
	select {
	case <-svc.Refreshed():
		t.Fatal("a failed refresh raised the refreshed signal")
	default:
	}
	after, err := svc.SpawnerImages(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after, "SpawnerImages after a failed refresh")
	assert.Equal(t, 1.0, testutil.ToFloat64(m.Refreshes.WithLabelValues("success")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.Refreshes.WithLabelValues("failure")))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.Error(t, svc.Refresh(cancelled))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.Refreshes.WithLabelValues("failure")), "a cancelled refresh is not counted")
	img, err := svc.Resolve(ctx, nublado.ImageRequest{Attribute: nublado.ImageClass, Value: "recommended"})
	require.NoError(t, err, "resolving from the cached catalog needs no registry")
	assert.Equal(t, "w_2077_43", img.AliasTarget)
}

func TestResolve(t *testing.T) {
	reg := startRegistry(t)
	cfg := loadConfig(t, "resolve")
	addNodes(t, selected("resolve-a", "resolve", nil))
	svc, _ := newService(t, cfg, reg)
	ctx := context.Background()
	_, err := svc.Resolve(ctx, nublado.ImageRequest{Attribute: nublado.ImageTag, Value: "w_2077_43"})
	require.ErrorIs(t, err, prepuller.ErrNoCatalog, "Resolve before the first refresh")
	require.NoError(t, svc.Refresh(ctx))

	for _, tc := range []struct {
		name string
		req  nublado.ImageRequest
		want string
	}{
		{"class", nublado.ImageRequest{Attribute: nublado.ImageClass, Value: "latest-weekly"}, "w_2077_44@sha256:w44"},
		{"prepulled tag", nublado.ImageRequest{Attribute: nublado.ImageTag, Value: "d_2077_10_23"}, "d_2077_10_23@sha256:d23"},
		{"tag looked up", nublado.ImageRequest{Attribute: nublado.ImageTag, Value: "w_2077_42"}, "w_2077_42@sha256:w42"},
		{"alias by digest", nublado.ImageRequest{Attribute: nublado.ImageList,
			Value: repository + ":recommended@" + reg.real["sha256:w43"]}, "w_2077_43@sha256:w43"},
		{"dropdown reference", nublado.ImageRequest{Attribute: nublado.ImageDropdown,
			Value: repository + ":r21_0_1"}, "r21_0_1@sha256:r21"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := svc.Resolve(ctx, tc.req)
			require.NoError(t, err)
			assert.Equal(t, repository+":"+tc.want, reg.fake(img.ReferenceWithDigest()), "Resolve(%v)", tc.req)
		})
	}

	for _, tc := range []struct {
		name string
		req  nublado.ImageRequest
		msg  string
		// check tells the error's type.
		check func(error) bool
	}{
		{"unknown tag", nublado.ImageRequest{Attribute: nublado.ImageTag, Value: "unknown"},
			`Docker tag "unknown" not found`, isUnknown},
		{"no tag", nublado.ImageRequest{Attribute: nublado.ImageList, Value: repository},
			`Docker reference "` + repository + `" has no tag`, isInvalid},
		{"other repository", nublado.ImageRequest{Attribute: nublado.ImageDropdown, Value: "example.com/other:w_2077_43"},
			`Docker reference "example.com/other:w_2077_43" not found`, isUnknown},
		{"not a reference", nublado.ImageRequest{Attribute: nublado.ImageList, Value: "sketchbook"},
			`Docker reference "sketchbook" is invalid`, isInvalid},
		{"class latest-daily", nublado.ImageRequest{Attribute: nublado.ImageClass, Value: "latest-daily"},
			"", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := svc.Resolve(ctx, tc.req)
			if tc.check == nil {
				require.NoError(t, err)
				assert.Equal(t, "d_2077_10_23", img.Tag.Tag)
				return
			}
			require.Error(t, err, "Resolve(%v)", tc.req)
			assert.True(t, tc.check(err), "Resolve(%v): %#v", tc.req, err)
			assert.EqualError(t, err, tc.msg)
		})
	}
}

func isUnknown(err error) bool {
	var e *images.UnknownImageError
	return errors.As(err, &e) && e.Attribute != ""
}

func isInvalid(err error) bool {
	var e *images.InvalidReferenceError
	return errors.As(err, &e) && e.Attribute != ""
}

// TestResolveRegistryFailure: a digest lookup that fails is a plain error
// (a 500), not an image error.
func TestResolveRegistryFailure(t *testing.T) {
	reg := startRegistry(t)
	cfg := loadConfig(t, "lookup")
	addNodes(t, selected("lookup-a", "lookup", nil))
	svc, _ := newService(t, cfg, reg)
	require.NoError(t, svc.Refresh(context.Background()))
	reg.server.Close()
	_, err := svc.Resolve(context.Background(), nublado.ImageRequest{Attribute: nublado.ImageTag, Value: "w_2077_42"})
	require.Error(t, err)
	assert.False(t, isUnknown(err) || isInvalid(err), "a registry failure is no client error: %v", err)
}

// TestConcurrentRefreshes: refreshes and queries run concurrently (under
// -race) and every refresh succeeds.
func TestConcurrentRefreshes(t *testing.T) {
	reg := startRegistry(t)
	cfg := loadConfig(t, "concurrent")
	addNodes(t, selected("concurrent-a", "concurrent", reg.cached("w_2077_43")))
	svc, _ := newService(t, cfg, reg)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 4 {
		wg.Go(func() { errs <- svc.Refresh(ctx) })
		wg.Go(func() {
			for range 5 {
				if _, err := svc.Prepulls(ctx); err != nil && !errors.Is(err, prepuller.ErrNoCatalog) {
					errs <- err
				}
				_, _, _ = svc.LabFormImages(ctx)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.NotNil(t, svc.Catalog())
}

// TestRegistryStatus: a registry that answers 401 without credentials
// fails the refresh with the status.
func TestRegistryStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	cfg := loadConfig(t, "status")
	addNodes(t, selected("status-a", "status", nil))
	svc, _ := newService(t, cfg, &registry{transport: dialTo(srv.Listener.Addr().String())})
	err := svc.Refresh(context.Background())
	var aerr *images.AuthError
	require.ErrorAs(t, err, &aerr, "Refresh against a registry that wants credentials")
}

// TestNodeWatcherRemoved: Removed is closed at once for a node that is not
// selected, and when a selected node is deleted or stops matching the
// selector.
func TestNodeWatcherRemoved(t *testing.T) {
	c := addNodes(t, selected("removal-a", "removal", nil), selected("removal-b", "removal", nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := prepuller.NewNodeWatcher(c.Client(), map[string]string{"nublado.test/selector": "removal"}, time.Minute)
	w.Start(ctx)
	nodes, err := w.Nodes(ctx)
	require.NoError(t, err)
	require.Len(t, nodes, 2)
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	assert.True(t, closed(w.Removed("removal-x")), "a node that does not exist")
	a, b := w.Removed("removal-a"), w.Removed("removal-b")
	assert.False(t, closed(a))
	assert.False(t, closed(b))

	require.NoError(t, c.RemoveNode(ctx, "removal-a"))
	_, err = c.Client().CoreV1().Nodes().Patch(ctx, "removal-b", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"nublado.test/selector":"elsewhere"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	for name, ch := range map[string]<-chan struct{}{"deleted": a, "relabelled": b} {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Errorf("Removed of the %s node not closed", name)
		}
	}
	assert.True(t, closed(w.Removed("removal-a")), "asked again after the removal")
}
