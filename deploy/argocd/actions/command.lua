-- Writes one steering command into status.command; the generator prepends
-- `local command_name = "<name>"` for each action. Only status changes, so Argo CD
-- patches the status subresource and spec (what Git holds) never drifts.
--
-- The id must be new for every request, because the controller executes each id once.
-- Argo CD's sandbox has no random source, so the id joins the UTC time with the
-- object's resourceVersion: every accepted write changes the resourceVersion, so a
-- later request always gets a new id. Only two requests made in the same second against
-- the same version of the object share an id, and those are one double-click.
--
-- Argo CD's sandbox has no `os` global: its safe os library (os.time and os.date only) is
-- reached through require, as Argo CD's own Rollout restart action does.
local os = require("os")
if obj.status == nil then
  obj.status = {}
end
local version = "0"
if obj.metadata ~= nil and obj.metadata.resourceVersion ~= nil then
  version = obj.metadata.resourceVersion
end
obj.status.command = {
  ["name"] = command_name,
  ["id"] = os.date("!%Y%m%dT%H%M%SZ") .. "-argocd-" .. version,
  ["requestedAt"] = os.date("!%Y-%m-%dT%H:%M:%SZ"),
  ["requestedBy"] = "argocd",
}
return obj
