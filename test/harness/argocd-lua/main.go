// argocd-lua runs Aviary's Argo CD resource customizations (the argocd-cm.yaml that
// `npm run gen:argocd` writes) in Argo CD's own Lua engine: the util/lua package of the
// argo-cd module, called the way Argo CD's controller and its resource_customizations tests
// call it (GetResourceHealth for health, GetResourceActionDiscovery + ExecuteResourceActionDiscovery
// for the action menu, GetResourceAction + ExecuteResourceAction for each action).
//
// Usage: argocd-lua <argocd-cm.yaml> < objects.json > results.json
// stdin: a JSON array of Kubernetes objects; stdout: one result per object, in order.
// build-binaries.sh builds it in a wrapper module outside the repo; nothing here is vendored.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/argoproj/argo-cd/gitops-engine/pkg/health"
	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

type actionResult struct {
	Name     string         `json:"name"`
	Disabled bool           `json:"disabled"`
	Error    string         `json:"error,omitempty"`
	Resource map[string]any `json:"resource,omitempty"`
	// "patch" (what Argo CD applies to the live object) or "create".
	Operation string `json:"operation,omitempty"`
}

type result struct {
	Health      *health.HealthStatus `json:"health,omitempty"`
	HealthError string               `json:"healthError,omitempty"`
	Actions     []actionResult       `json:"actions"`
	ActionError string               `json:"actionError,omitempty"`
}

const (
	healthPrefix  = "resource.customizations.health."
	actionsPrefix = "resource.customizations.actions."
)

// overridesFrom reads the per-resource keys of argocd-cm the way Argo CD names them:
// "resource.customizations.health.<group>_<Kind>" holds the health Lua and
// "resource.customizations.actions.<group>_<Kind>" the actions document; the override's key
// is "<group>/<Kind>" (lua.GetConfigMapKey).
func overridesFrom(path string) (map[string]appv1.ResourceOverride, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	overrides := map[string]appv1.ResourceOverride{}
	key := func(groupKind string) string {
		i := strings.LastIndex(groupKind, "_")
		if i < 0 {
			return groupKind
		}
		return groupKind[:i] + "/" + groupKind[i+1:]
	}
	for k, v := range cm.Data {
		switch {
		case strings.HasPrefix(k, healthPrefix):
			o := overrides[key(strings.TrimPrefix(k, healthPrefix))]
			o.HealthLua = v
			overrides[key(strings.TrimPrefix(k, healthPrefix))] = o
		case strings.HasPrefix(k, actionsPrefix):
			o := overrides[key(strings.TrimPrefix(k, actionsPrefix))]
			o.Actions = v
			overrides[key(strings.TrimPrefix(k, actionsPrefix))] = o
		}
	}
	if len(overrides) == 0 {
		return nil, fmt.Errorf("%s holds no resource.customizations keys", path)
	}
	return overrides, nil
}

func evaluate(vm lua.VM, overrides lua.ResourceHealthOverrides, object map[string]any) result {
	obj := &unstructured.Unstructured{Object: object}
	out := result{Actions: []actionResult{}}
	status, err := overrides.GetResourceHealth(obj)
	if err != nil {
		out.HealthError = err.Error()
	} else {
		out.Health = status
	}
	scripts, err := vm.GetResourceActionDiscovery(obj)
	if err != nil {
		out.ActionError = err.Error()
		return out
	}
	discovered, err := vm.ExecuteResourceActionDiscovery(obj, scripts)
	if err != nil {
		out.ActionError = err.Error()
		return out
	}
	sort.Slice(discovered, func(i, j int) bool { return discovered[i].Name < discovered[j].Name })
	for _, action := range discovered {
		entry := actionResult{Name: action.Name, Disabled: action.Disabled}
		definition, err := vm.GetResourceAction(obj, action.Name)
		if err != nil {
			entry.Error = err.Error()
			out.Actions = append(out.Actions, entry)
			continue
		}
		// Each action runs on its own copy, as Argo CD runs each on the live object.
		impacted, err := vm.ExecuteResourceAction(obj.DeepCopy(), definition.ActionLua, nil)
		switch {
		case err != nil:
			entry.Error = err.Error()
		case len(impacted) != 1:
			entry.Error = fmt.Sprintf("the action returned %d resources, expected 1", len(impacted))
		default:
			entry.Resource = impacted[0].UnstructuredObj.Object
			entry.Operation = string(impacted[0].K8SOperation)
		}
		out.Actions = append(out.Actions, entry)
	}
	return out
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-lua <argocd-cm.yaml> < objects.json")
		os.Exit(2)
	}
	overrides, err := overridesFrom(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-lua:", err)
		os.Exit(1)
	}
	var objects []map[string]any
	if err := json.NewDecoder(os.Stdin).Decode(&objects); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-lua: stdin must be a JSON array of objects:", err)
		os.Exit(1)
	}
	// UseOpenLibs stays false: the sandbox Argo CD gives argocd-cm scripts (no string, math, io).
	vm := lua.VM{ResourceOverrides: overrides}
	results := make([]result, 0, len(objects))
	for _, object := range objects {
		results = append(results, evaluate(vm, overrides, object))
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-lua:", err)
		os.Exit(1)
	}
}
