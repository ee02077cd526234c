-- Argo CD health of an Aviary Rollout (aviary.dev/Rollout).
-- Runs in Argo CD's Lua sandbox (Lua 5.1, no string library): only base, table and os.time/os.date.
local hs = {}
local status = obj.status

if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Aviary controller to observe the Rollout"
  return hs
end

-- The controller has not seen the latest spec yet: whatever status says is about an older one.
local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the Aviary controller to observe generation " .. tostring(generation)
  return hs
end

local message = status.message
if message == nil then
  message = ""
end

local phase = status.phase
if phase == "Healthy" then
  hs.status = "Healthy"
elseif phase == "Paused" then
  -- Suspended, like a paused Argo Rollout: a person (promote/resume) or a timer moves it on.
  hs.status = "Suspended"
elseif phase == "Degraded" or phase == "Aborted" then
  hs.status = "Degraded"
else
  hs.status = "Progressing"
  if phase == nil and message == "" then
    message = "Waiting for the Aviary controller to report a phase"
  end
end
hs.message = message
return hs
