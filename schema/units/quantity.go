package units

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

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
func QuantityBytes(s string) (int64, error) {
	q, err := ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	n, ok := q.AsInt64()
	if !ok {
		n = q.Value()
	}
	return n, nil
}

// QuantityCPU parses a Kubernetes CPU quantity into cores, at millicore
// precision ("500m" is 0.5, "2" is 2.0).
func QuantityCPU(s string) (CPU, error) {
	q, err := ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	return CPU(float64(q.MilliValue()) / 1000), nil
}
