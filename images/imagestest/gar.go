package imagestest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/artifactregistry/apiv1/artifactregistrypb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// GARServer is a local Artifact Registry over a list of Docker images:
// ListDockerImages (paged, with injected failures), GetTag and
// BatchDeleteVersions (which removes the versions from the list). Its
// methods are safe for concurrent use.
type GARServer struct {
	artifactregistrypb.UnimplementedArtifactRegistryServer
	parent   string
	pageSize int

	mu        sync.Mutex
	images    []*artifactregistrypb.DockerImage
	failOn    map[int]codes.Code
	listCalls int
	deletes   []*artifactregistrypb.BatchDeleteVersionsRequest
}

// StartGAR serves images of the repository parent
// ("projects/{p}/locations/{l}/repositories/{r}") on a local port, pageSize
// per listing page, until the test ends. It returns the client options
// that reach it without authentication.
func StartGAR(t testing.TB, parent string, images []*artifactregistrypb.DockerImage, pageSize int) (*GARServer, []option.ClientOption) {
	t.Helper()
	s := &GARServer{parent: parent, pageSize: pageSize, images: images, failOn: map[int]codes.Code{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	gs := grpc.NewServer()
	artifactregistrypb.RegisterArtifactRegistryServer(gs, s)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	return s, []option.ClientOption{
		option.WithEndpoint(lis.Addr().String()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// FailOn makes ListDockerImages call number call (from 1) fail with code.
func (s *GARServer) FailOn(call int, code codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failOn[call] = code
}

// ListCalls returns how many ListDockerImages calls were made.
func (s *GARServer) ListCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listCalls
}

// Deletes returns the BatchDeleteVersions requests received.
func (s *GARServer) Deletes() []*artifactregistrypb.BatchDeleteVersionsRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*artifactregistrypb.BatchDeleteVersionsRequest(nil), s.deletes...)
}

// ListDockerImages implements the Artifact Registry call; the page token
// is the index of the page's first image.
func (s *GARServer) ListDockerImages(_ context.Context, req *artifactregistrypb.ListDockerImagesRequest) (*artifactregistrypb.ListDockerImagesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listCalls++
	if code, ok := s.failOn[s.listCalls]; ok {
		return nil, status.Error(code, "injected failure")
	}
	if req.GetParent() != s.parent {
		return nil, status.Errorf(codes.NotFound, "no repository %s", req.GetParent())
	}
	start := 0
	if req.GetPageToken() != "" {
		var err error
		if start, err = strconv.Atoi(req.GetPageToken()); err != nil {
			return nil, status.Error(codes.InvalidArgument, "bad page token")
		}
	}
	start = min(start, len(s.images))
	end := min(start+s.pageSize, len(s.images))
	resp := &artifactregistrypb.ListDockerImagesResponse{DockerImages: s.images[start:end]}
	if end < len(s.images) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

// GetTag implements the Artifact Registry call: the tag's version is named
// after the digest of the image holding it.
func (s *GARServer) GetTag(_ context.Context, req *artifactregistrypb.GetTagRequest) (*artifactregistrypb.Tag, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pkg, tag, _ := strings.Cut(req.GetName(), "/tags/")
	for _, di := range s.images {
		for _, t := range di.GetTags() {
			if t == tag {
				return &artifactregistrypb.Tag{Name: req.GetName(), Version: pkg + "/versions/" + digestOf(di)}, nil
			}
		}
	}
	return nil, status.Errorf(codes.NotFound, "no tag %s", req.GetName())
}

// BatchDeleteVersions implements the Artifact Registry call: the named
// versions leave the list at once, and the returned operation is done.
func (s *GARServer) BatchDeleteVersions(_ context.Context, req *artifactregistrypb.BatchDeleteVersionsRequest) (*longrunningpb.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes = append(s.deletes, req)
	gone := make(map[string]bool)
	for _, n := range req.GetNames() {
		gone[n[strings.LastIndex(n, "/")+1:]] = true
	}
	var kept []*artifactregistrypb.DockerImage
	for _, di := range s.images {
		if !gone[digestOf(di)] {
			kept = append(kept, di)
		}
	}
	s.images = kept
	return &longrunningpb.Operation{Name: fmt.Sprintf("operations/delete-%d", len(s.deletes)), Done: true}, nil
}

func digestOf(di *artifactregistrypb.DockerImage) string {
	return di.GetUri()[strings.LastIndex(di.GetUri(), "@")+1:]
}

// GARImages reads a listing in the JSON form of Nublado's test data (an
// array of objects with name, uri, tags, image_size_bytes, media_type).
func GARImages(data []byte) ([]*artifactregistrypb.DockerImage, error) {
	var raw []struct {
		Name           string   `json:"name"`
		URI            string   `json:"uri"`
		Tags           []string `json:"tags"`
		ImageSizeBytes int64    `json:"image_size_bytes"`
		MediaType      string   `json:"media_type"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("decoding GAR images: %w", err)
	}
	out := make([]*artifactregistrypb.DockerImage, 0, len(raw))
	for _, r := range raw {
		out = append(out, &artifactregistrypb.DockerImage{Name: r.Name, Uri: r.URI, Tags: r.Tags,
			ImageSizeBytes: r.ImageSizeBytes, MediaType: r.MediaType})
	}
	return out, nil
}
