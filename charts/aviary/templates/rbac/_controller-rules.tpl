{{/*
The one list of what the controller process may do in a namespace it watches: the ClusterRole
(whole cluster) and the per-namespace Roles (watchNamespaces) both render it, and
deploy/rbac.yaml is generated from this chart (`npm run gen:rbac`; a test checks it). Each rule
names the code that needs it; add a rule here, next to the code that needs it.
*/}}
{{- define "aviary.controllerRules" -}}
# Informers and the reconciler's fresh read (src/kube/watches.ts, reconciler.ts); patch
# adds and removes Aviary's finalizer, and nothing else (src/kube/finalizer.ts).
- apiGroups: ["aviary.dev"]
  resources: ["rollouts"]
  verbs: ["get", "list", "watch", "patch"]
# The controller merge-patches only its own status fields (src/kube/ports.ts writeStatus).
- apiGroups: ["aviary.dev"]
  resources: ["rollouts/status"]
  verbs: ["patch"]
# ReplicaSets carry an ownerReference with blockOwnerDeletion: clusters that enable the
# OwnerReferencesPermissionEnforcement admission plugin require this to create them.
- apiGroups: ["aviary.dev"]
  resources: ["rollouts/finalizers"]
  verbs: ["update"]
# analysis.metrics[].templateRef: read from a watch (src/kube/watches.ts, analysis-source.ts).
- apiGroups: ["aviary.dev"]
  resources: ["metrictemplates"]
  verbs: ["get", "list", "watch"]
# One ReplicaSet per pod-template hash: created, scaled by server-side apply (field
# manager aviary), deleted (src/kube/replica-sets.ts).
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# spec.workloadRef: the Deployment's template from a watch (started once a Rollout names
# one; src/kube/pod-template-source.ts), scaled by merge patch.
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "patch"]
# Stable/canary (active/preview) Service selectors: server-side apply of Aviary's hash
# selector only, merge patch to remove it (src/kube/service-selectors.ts).
- apiGroups: [""]
  resources: ["services"]
  verbs: ["get", "list", "watch", "patch"]
# Slack webhook URL and Prometheus credentials (src/notify/secret.ts,
# src/kube/prometheus-auth.ts, through a short cache of GETs: src/kube/secret-cache.ts).
# Only read, only by name, never listed or watched (rbac.secretNames narrows it).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
{{- with .Values.rbac.secretNames }}
  resourceNames: {{ toJson . }}
{{- end }}
# Transition Events, created as core/v1 Events (src/kube/ports.ts emit); never updated.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
# Traffic routers edit weights and header routes by server-side apply of only the lists
# they edit, guarded by resourceVersion (src/traffic/routing-object.ts); informers watch
# them to revert drift and are the cache the routers read.
- apiGroups: ["networking.istio.io"]
  resources: ["virtualservices", "destinationrules"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes"]
  verbs: ["get", "list", "watch", "patch"]
{{- end -}}

{{/* Leader election: read, create, and replace with the read resourceVersion
(src/kube/leader-election.ts), only in the controller's own namespace. */}}
{{- define "aviary.leaderElectionRules" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "create", "update"]
{{- end -}}
