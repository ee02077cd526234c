-- Which steering actions Argo CD offers for an Aviary Rollout, and which are greyed out.
-- Mirrors the rules the controller applies to status.command (src/core/commands.ts): a
-- disabled action would only be ignored with a CommandIgnored event.
local status = obj.status
if status == nil then
  status = {}
end

-- A release is in progress while a canary version exists beside stable.
local releasing = status.canaryHash ~= nil and status.canaryHash ~= status.stableHash
local aborted = status.abortedAt ~= nil or status.phase == "Aborted"
local pausedByPerson = status.manualPause == true

local actions = {}
actions["promote"] = {
  ["disabled"] = not releasing or aborted,
  ["iconClass"] = "fa fa-fw fa-forward",
}
actions["promote-full"] = {
  ["disabled"] = not releasing or aborted,
  ["iconClass"] = "fa fa-fw fa-fast-forward",
  ["displayName"] = "Promote full",
}
actions["abort"] = {
  ["disabled"] = not releasing or aborted,
  ["iconClass"] = "fa fa-fw fa-circle-xmark",
}
actions["retry"] = {
  ["disabled"] = not (releasing and aborted),
  ["iconClass"] = "fa fa-fw fa-redo-alt",
}
actions["pause"] = {
  ["disabled"] = pausedByPerson or aborted,
  ["iconClass"] = "fa fa-fw fa-pause-circle",
}
actions["resume"] = {
  ["disabled"] = not pausedByPerson,
  ["iconClass"] = "fa fa-fw fa-play-circle",
}
return actions
