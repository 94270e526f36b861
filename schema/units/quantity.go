package units

import (
	"errors"
	"fmt"
	"math"

	"k8s.io/apimachinery/pkg/api/resource"
)

// ErrQuantityRange is wrapped by the errors of [QuantityBytes] and
// [QuantityCPU] for a valid Kubernetes quantity too large for the result
// (Quantity.Value and MilliValue would silently wrap around).
var ErrQuantityRange = errors.New("out of range")

var (
	maxInt64 = resource.NewQuantity(math.MaxInt64, resource.DecimalSI)
	minInt64 = resource.NewQuantity(math.MinInt64, resource.DecimalSI)
	// maxCores and minCores bound what MilliValue holds.
	maxCores = resource.NewMilliQuantity(math.MaxInt64, resource.DecimalSI)
	minCores = resource.NewMilliQuantity(math.MinInt64+1, resource.DecimalSI)
)

// checkRange fails with ErrQuantityRange when q is outside [lo, hi].
func checkRange(s string, q, lo, hi *resource.Quantity) error {
	if q.Cmp(*hi) > 0 || q.Cmp(*lo) < 0 {
		return fmt.Errorf("converting Kubernetes quantity %q: %w", s, ErrQuantityRange)
	}
	return nil
}

// ParseQuantity parses a Kubernetes resource quantity ("500m", "1.5Gi",
// "134217728k", "1e3") as the API server does (decision D10: quantities
// read back from Kubernetes are never parsed with float()).
func ParseQuantity(s string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return resource.Quantity{}, fmt.Errorf("parsing Kubernetes quantity %q: %w", s, err)
	}
	return q, nil
}

// QuantityBytes parses a Kubernetes memory quantity into whole bytes,
// rounding up fractions as Kubernetes does ("134217728k" is 134217728000).
// A quantity beyond the int64 range is an error wrapping
// [ErrQuantityRange].
func QuantityBytes(s string) (int64, error) {
	q, err := ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	if err := checkRange(s, &q, minInt64, maxInt64); err != nil {
		return 0, err
	}
	n, ok := q.AsInt64()
	if !ok {
		n = q.Value()
	}
	return n, nil
}

// QuantityCPU parses a Kubernetes CPU quantity into cores, at millicore
// precision ("500m" is 0.5, "2" is 2.0). A quantity whose millicores
// exceed the int64 range is an error wrapping [ErrQuantityRange].
func QuantityCPU(s string) (CPU, error) {
	q, err := ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	if err := checkRange(s, &q, minCores, maxCores); err != nil {
		return 0, err
	}
	return CPU(float64(q.MilliValue()) / 1000), nil
}
